//! Configuration from environment variables, with defaults that run on a developer's machine.

use std::net::SocketAddr;

use chrono_tz::Tz;

use app::domain::{ActingUser, UserRole};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{var}: {rule} (got {value:?})")]
    Invalid {
        var: &'static str,
        rule: &'static str,
        value: String,
    },
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// `DATABASE_URL`; default `postgres://postgres@127.0.0.1:5432/takt`.
    pub database_url: String,
    /// `TAKT_BIND_ADDR`; default the Leptos site address (`127.0.0.1:3000`).
    pub bind_addr: Option<SocketAddr>,
    /// `TAKT_PLANT_TZ`: the plant's IANA time zone; shifts and day buckets follow it.
    pub plant_tz: Tz,
    /// `TAKT_DB_MAX_CONNECTIONS`; default 10.
    pub db_max_connections: u32,
    /// The user requests act for until sign-in lands.
    pub local_user: ActingUser,
}

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/takt";
pub const DEFAULT_PLANT_TZ: &str = "Europe/Berlin";

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `lookup`, so tests can pass their own environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let database_url =
            lookup("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string());
        let bind_addr = match lookup("TAKT_BIND_ADDR") {
            None => None,
            Some(raw) => Some(raw.parse().map_err(|_| ConfigError::Invalid {
                var: "TAKT_BIND_ADDR",
                rule: "must be an address like 127.0.0.1:3000",
                value: raw.clone(),
            })?),
        };
        let tz_raw = lookup("TAKT_PLANT_TZ").unwrap_or_else(|| DEFAULT_PLANT_TZ.to_string());
        let plant_tz = tz_raw.parse::<Tz>().map_err(|_| ConfigError::Invalid {
            var: "TAKT_PLANT_TZ",
            rule: "must be an IANA time zone such as Europe/Berlin",
            value: tz_raw.clone(),
        })?;
        let db_max_connections = match lookup("TAKT_DB_MAX_CONNECTIONS") {
            None => 10,
            Some(raw) => match raw.parse::<u32>() {
                Ok(n) if (1..=200).contains(&n) => n,
                _ => {
                    return Err(ConfigError::Invalid {
                        var: "TAKT_DB_MAX_CONNECTIONS",
                        rule: "must be a whole number from 1 to 200",
                        value: raw,
                    })
                }
            },
        };
        Ok(Self {
            database_url,
            bind_addr,
            plant_tz,
            db_max_connections,
            local_user: ActingUser {
                username: "planner".into(),
                display_name: "Local planner".into(),
                role: UserRole::Planner,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let s = Settings::from_lookup(|_| None).expect("defaults are valid");
        assert_eq!(s.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(s.plant_tz, chrono_tz::Europe::Berlin);
        assert_eq!(s.bind_addr, None);
        assert_eq!(s.db_max_connections, 10);
    }

    #[test]
    fn a_bad_time_zone_names_the_variable_and_the_rule() {
        let err = Settings::from_lookup(|k| (k == "TAKT_PLANT_TZ").then(|| "Mars/Olympus".into()))
            .expect_err("not a zone");
        let text = err.to_string();
        assert!(text.contains("TAKT_PLANT_TZ"), "{text}");
        assert!(text.contains("IANA"), "{text}");
    }

    #[test]
    fn a_bad_bind_address_is_rejected() {
        let err = Settings::from_lookup(|k| (k == "TAKT_BIND_ADDR").then(|| "localhost".into()))
            .expect_err("no port");
        assert!(err.to_string().contains("TAKT_BIND_ADDR"));
    }
}

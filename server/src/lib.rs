//! The server side of Takt: configuration, start-up, Postgres, the adapters behind the app's
//! ports, the demo factory and the optimizer's host. Only this crate knows SQL.

pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod floor;
pub mod health;
pub mod read;
pub mod startup;
pub mod telemetry;

//! Takt's Leptos application.
//!
//! Compiled twice: with `ssr` into the server (rendering and server-function bodies) and with
//! `hydrate` into the WASM bundle the browser runs. Everything here compiles for both targets;
//! what only the server may know (SQL, the optimizer) lives behind the ports in [`ports`] and is
//! implemented in the `server` crate.

pub mod api;
pub mod domain;
pub mod error;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod ports;
pub mod read_models;
pub mod shell;

pub use shell::{shell, App};

/// Entry point of the WASM bundle: attaches the client to the server-rendered HTML.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
    // A marker for browser tests and support: the page is interactive from here on.
    if let Some(window) = web_sys::window() {
        let _ = js_sys::Reflect::set(&window, &"__TAKT_HYDRATED".into(), &true.into());
    }
}

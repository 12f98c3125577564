#![recursion_limit = "256"]
//! Messio's web app: shared types, the Leptos UI, and (with `ssr`) the domain the server runs.

pub mod model;
#[cfg(feature = "ssr")]
pub mod store;

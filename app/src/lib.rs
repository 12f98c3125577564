#![recursion_limit = "256"]
//! Messio's web app: shared types, the Leptos UI, server functions, and (with `ssr`)
//! the domain the server runs: store, services, authentication.

// First, so its `string_enum!` macro is visible to the modules below.
#[macro_use]
pub mod model;
pub mod attachments;
pub mod auth;
pub mod channels;
pub mod domain;
pub mod error;
pub mod events;
#[cfg(feature = "ssr")]
pub mod inbound;
pub mod inbox;
pub mod platforms;
#[cfg(feature = "ssr")]
pub mod presence;
pub mod realtime;
#[cfg(feature = "ssr")]
pub mod routing;
#[cfg(feature = "ssr")]
pub mod services;
pub mod sms;
#[cfg(feature = "ssr")]
pub mod store;
pub mod team;
pub mod templates;
pub mod ui;

pub use ui::{App, shell};

//! What Messenger, Instagram and WhatsApp share because Meta runs all three: the one Graph
//! API client (`graph.rs`, tokens in the `Authorization` header only) and its one error
//! classifier (`errors.rs`), the app-level webhook (`webhook.rs`), what Messenger and
//! Instagram share through a Facebook page (`pages.rs`), and the Facebook login with the
//! connect flows it leads to (`login.rs`, `connect.rs`).

pub mod connect;
pub mod errors;
pub mod graph;
pub mod login;
pub mod pages;
pub mod webhook;

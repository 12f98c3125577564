//! What Messenger, Instagram and WhatsApp share because Meta runs all three: the app-level
//! webhook (one signed URL per platform for every account, with a subscription handshake).
//! The Graph API client, its error classifier and the Facebook login move here next.

pub mod login;
pub mod webhook;

//! The inbox's rules in plain Rust: no SQL, no I/O, each with its unit tests. The store loads
//! what a change starts from, asks these functions what the change makes of it, and stores
//! the answer with the events they describe (`crate::events`).
//!
//! - `conversation`: how a conversation's status and activity move, and the lines left in
//!   its thread;
//! - `contact`: naming a customer we know nothing about yet;
//! - `reactions`: one reaction per customer and message;
//! - `delivery`: what becomes of a reply whose send was cut off;
//! - `mentions`: whom a note's `@name`s mention.
//!
//! Reply windows follow each platform's declared rule (`platforms`, read by
//! `model::ReplyWindow::at`).

pub mod contact;
pub mod conversation;
pub mod delivery;
pub mod mentions;
pub mod reactions;

//! What every store file uses to talk SQL: the connection type its helpers take (a pooled
//! connection or an open transaction), reading stored enums back, and mapping a unique-key
//! violation to a conflict the caller can explain.

use super::StoreError;

/// A connection or, through `&mut *tx`, an open transaction.
pub(super) type Conn = sqlx::AnyConnection;

/// Reads back a value stored with `as_str()`.
pub(super) fn parse<T: std::str::FromStr>(value: &str, what: &str) -> Result<T, StoreError> {
    value
        .parse()
        .map_err(|_| StoreError::Invalid(format!("stored {what} `{value}` is not recognized")))
}

pub(super) fn map_unique(err: sqlx::Error, what: &str) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what.to_string()),
        _ => StoreError::Database(err),
    }
}

/// JSON kept in a text column.
pub(super) fn json_text<T: serde::Serialize>(value: &T, empty: &str) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| empty.to_string())
}

//! Reading a Bot API call's parameters the four ways Telegram accepts them:
//! the query string, `application/json`, `application/x-www-form-urlencoded`
//! and `multipart/form-data` (the only way to upload a file).
//!
//! Everything ends up in one [`Params`] map; body values win over query
//! values. Structured parameters (`reply_markup`, `reply_parameters`,
//! `allowed_updates`, …) arrive as JSON in a JSON body but as JSON *strings*
//! in the other encodings, so [`Params::json`] accepts both.

use std::collections::HashMap;

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use serde_json::Value;

use super::errors::ApiError;

/// A file part of a multipart request.
#[derive(Clone, Debug)]
pub struct Upload {
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

#[derive(Clone, Debug, Default)]
pub struct Params {
    values: HashMap<String, Value>,
    uploads: HashMap<String, Upload>,
}

impl Params {
    /// Collects the parameters of `request`. A body that cannot be read as its
    /// declared type is a 400, as on Telegram.
    pub async fn from_request(request: Request) -> Result<Params, ApiError> {
        let mut params = Params::default();
        if let Some(query) = request.uri().query() {
            for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
                params
                    .values
                    .insert(name.into_owned(), Value::String(value.into_owned()));
            }
        }
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if content_type.starts_with("multipart/form-data") {
            let mut multipart = Multipart::from_request(request, &())
                .await
                .map_err(|_| ApiError::bad_request("Bad Request: invalid multipart/form-data"))?;
            loop {
                let field = match multipart.next_field().await {
                    Ok(Some(field)) => field,
                    Ok(None) => break,
                    Err(_) => return Err(ApiError::bad_request("Bad Request: invalid multipart/form-data")),
                };
                let Some(name) = field.name().map(str::to_owned) else {
                    continue;
                };
                let file_name = field.file_name().map(str::to_owned);
                let part_type = field.content_type().map(str::to_owned);
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|_| ApiError::bad_request("Bad Request: invalid multipart/form-data"))?;
                if file_name.is_some() {
                    params.uploads.insert(
                        name,
                        Upload {
                            file_name,
                            content_type: part_type,
                            bytes: bytes.to_vec(),
                        },
                    );
                } else {
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    params.values.insert(name, Value::String(text));
                }
            }
            return Ok(params);
        }
        let body = axum::body::to_bytes(request.into_body(), usize::MAX)
            .await
            .map_err(|_| ApiError::bad_request("Bad Request: request body could not be read"))?;
        if body.is_empty() {
            return Ok(params);
        }
        if content_type.starts_with("application/json") {
            let parsed: Value = serde_json::from_slice(&body)
                .map_err(|_| ApiError::bad_request("Bad Request: can't parse JSON encoded request"))?;
            let Value::Object(object) = parsed else {
                return Err(ApiError::bad_request("Bad Request: can't parse JSON encoded request"));
            };
            params.values.extend(object);
        } else {
            for (name, value) in url::form_urlencoded::parse(&body) {
                params
                    .values
                    .insert(name.into_owned(), Value::String(value.into_owned()));
            }
        }
        Ok(params)
    }

    /// A scalar parameter as text; absent and `null` are `None`.
    pub fn text(&self, name: &str) -> Option<String> {
        match self.values.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            other => Some(other.to_string()),
        }
    }

    /// An integer parameter; `Err(description)` when present but not a number.
    pub fn integer(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.values.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| ApiError::bad_request(format!("Bad Request: invalid {name} specified"))),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| ApiError::bad_request(format!("Bad Request: invalid {name} specified"))),
            Some(_) => Err(ApiError::bad_request(format!("Bad Request: invalid {name} specified"))),
        }
    }

    /// A Boolean parameter: JSON `true`, or `true`/`1` as text.
    pub fn flag(&self, name: &str) -> bool {
        match self.values.get(name) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => matches!(s.trim().to_ascii_lowercase().as_str(), "true" | "1"),
            Some(Value::Number(n)) => n.as_i64() == Some(1),
            _ => false,
        }
    }

    /// A structured parameter given as JSON or as a JSON-encoded string.
    /// `Err(())` when it is a string that is not JSON, so callers can answer
    /// with their own description.
    pub fn json(&self, name: &str) -> Result<Option<Value>, ()> {
        match self.values.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => serde_json::from_str(s).map(Some).map_err(|_| ()),
            Some(other) => Ok(Some(other.clone())),
        }
    }

    /// The uploaded file part named `name`.
    pub fn upload(&self, name: &str) -> Option<&Upload> {
        self.uploads.get(name)
    }

    /// Every scalar parameter, for the record of what was sent (uploads are
    /// described separately, by hash).
    pub fn to_json(&self) -> Value {
        Value::Object(self.values.clone().into_iter().collect())
    }
}

//! WhatsApp message templates as Messio keeps them, and the rules Meta applies to them:
//! validation before submitting, conversion to and from Meta's `components` array, and
//! rendering with variables filled in (for the composer's preview and the stored copy).

use crate::model::{Id, Millis};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

string_enum!(
    /// Meta's template categories (sent upper-case to the API).
    TemplateCategory { Marketing => "marketing", Utility => "utility", Authentication => "authentication" }
);

string_enum!(
    /// Where Meta's review stands. Only `approved` templates can be sent.
    TemplateStatus {
        Pending => "pending",
        Approved => "approved",
        Rejected => "rejected",
        Paused => "paused",
        Disabled => "disabled",
        InAppeal => "in_appeal",
        Deleted => "deleted",
    }
);

impl TemplateStatus {
    /// Reads Meta's upper-case status (`APPROVED`, `PENDING_DELETION`, …).
    pub fn from_meta(value: &str) -> Option<Self> {
        Some(match value.to_ascii_uppercase().as_str() {
            "PENDING" | "IN_REVIEW" => TemplateStatus::Pending,
            "APPROVED" | "REINSTATED" => TemplateStatus::Approved,
            "REJECTED" => TemplateStatus::Rejected,
            "PAUSED" | "FLAGGED" => TemplateStatus::Paused,
            "DISABLED" | "LIMIT_EXCEEDED" | "ARCHIVED" => TemplateStatus::Disabled,
            "APPEAL_REQUESTED" | "IN_APPEAL" => TemplateStatus::InAppeal,
            "DELETED" | "PENDING_DELETION" => TemplateStatus::Deleted,
            _ => return None,
        })
    }
}

impl TemplateCategory {
    pub fn meta(self) -> &'static str {
        match self {
            TemplateCategory::Marketing => "MARKETING",
            TemplateCategory::Utility => "UTILITY",
            TemplateCategory::Authentication => "AUTHENTICATION",
        }
    }

    pub fn from_meta(value: &str) -> Option<Self> {
        value.to_ascii_lowercase().parse().ok()
    }
}

string_enum!(HeaderMedia { Image => "image", Video => "video", Document => "document" });

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TemplateHeader {
    /// Text, with at most one `{{1}}` variable (and its example).
    Text {
        text: String,
        #[serde(default)]
        example: Option<String>,
    },
    /// A picture, video or document chosen when the template is sent.
    Media {
        format: HeaderMedia,
        #[serde(default)]
        example: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TemplateButton {
    QuickReply {
        text: String,
    },
    Url {
        text: String,
        url: String,
        #[serde(default)]
        example: Option<String>,
    },
    PhoneNumber {
        text: String,
        phone_number: String,
    },
}

/// What a template says, in the shape the editor and the preview work with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateContent {
    #[serde(default)]
    pub header: Option<TemplateHeader>,
    pub body: String,
    /// One example value per body variable, in order.
    #[serde(default)]
    pub body_examples: Vec<String>,
    #[serde(default)]
    pub footer: Option<String>,
    #[serde(default)]
    pub buttons: Vec<TemplateButton>,
}

/// A template an admin wrote, before it goes to Meta.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateDraft {
    /// The channel whose WhatsApp Business Account the template belongs to.
    pub channel_id: Id,
    pub name: String,
    pub language: String,
    pub category: TemplateCategory,
    pub content: TemplateContent,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WhatsAppTemplate {
    pub id: Id,
    pub waba_id: String,
    pub platform_template_id: Option<String>,
    pub name: String,
    pub language: String,
    pub category: TemplateCategory,
    pub status: TemplateStatus,
    pub rejected_reason: Option<String>,
    pub content: TemplateContent,
    pub usage_count: i64,
    pub last_used_at: Option<Millis>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// What `sync` found at Meta.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    pub imported: usize,
    pub updated: usize,
    pub templates: Vec<WhatsAppTemplate>,
}

/// An agent's request to send an approved template into a conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateSendRequest {
    pub conversation_id: Id,
    pub template_id: Id,
    /// Values for the body's `{{1}}`, `{{2}}`, … in order.
    #[serde(default)]
    pub params: Vec<String>,
    /// The header's variable (text header) or media link (media header).
    #[serde(default)]
    pub header_param: Option<String>,
    /// The dynamic suffix of a URL button (`https://shop/{{1}}`).
    #[serde(default)]
    pub button_param: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
}

/// A problem with a draft, tied to the field the editor should highlight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Where an admin uploads a media header's sample (multipart `wabaId`, `file`); Meta's
/// Resumable Upload API turns it into the handle the template's example carries.
pub const HEADER_SAMPLE_ROUTE: &str = "/api/templates/whatsapp/header-sample";

/// The answer of `HEADER_SAMPLE_ROUTE`: put `handle` in the media header's example.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeaderSample {
    pub handle: String,
    pub format: HeaderMedia,
    pub name: String,
    pub mime_type: String,
    pub size: u64,
}

/// The header kind a sample of `mime` type can be, with its size limit at Meta.
pub fn header_sample_format(mime: &str) -> Option<(HeaderMedia, u64)> {
    const MB: u64 = 1024 * 1024;
    match mime {
        "image/jpeg" | "image/png" => Some((HeaderMedia::Image, 5 * MB)),
        "video/mp4" => Some((HeaderMedia::Video, 16 * MB)),
        "application/pdf" => Some((HeaderMedia::Document, 16 * MB)),
        _ => None,
    }
}

pub const MAX_NAME: usize = 512;
pub const MAX_HEADER_TEXT: usize = 60;
pub const MAX_BODY: usize = 1024;
pub const MAX_FOOTER: usize = 60;
pub const MAX_BUTTON_TEXT: usize = 25;
pub const MAX_BUTTONS: usize = 10;
pub const MAX_PARAM: usize = 1024;

/// The variable numbers in `text` in the order they appear, or why they are malformed.
pub fn variables(text: &str) -> Result<Vec<u32>, String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err("a `{{` is never closed".into());
        };
        let inner = after[..end].trim();
        let n: u32 = inner
            .parse()
            .map_err(|_| format!("`{{{{{inner}}}}}` is not a variable; use {{{{1}}}}, {{{{2}}}}, …"))?;
        found.push(n);
        rest = &after[end + 2..];
    }
    Ok(found)
}

/// How many distinct variables `text` uses, after checking they are numbered 1, 2, 3 in order.
pub fn numbered_variables(text: &str) -> Result<usize, String> {
    let found = variables(text)?;
    let mut next = 1;
    for n in &found {
        if *n == next {
            next += 1;
        } else if *n >= next {
            return Err(format!(
                "variables must be numbered in order: expected {{{{{next}}}}}, found {{{{{n}}}}}"
            ));
        }
    }
    Ok((next - 1) as usize)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn valid_language(code: &str) -> bool {
    let mut parts = code.split('_');
    let lang = parts.next().unwrap_or_default();
    let region = parts.next();
    parts.next().is_none()
        && (2..=3).contains(&lang.len())
        && lang.chars().all(|c| c.is_ascii_lowercase())
        && region.is_none_or(|r| (2..=4).contains(&r.len()) && r.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// Checks a draft against Meta's published limits, so a submission is not refused for
/// something we could have said first. Returns every problem, not just the first.
pub fn validate(draft: &TemplateDraft) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut fail = |field: &str, message: String| {
        errors.push(FieldError {
            field: field.into(),
            message,
        })
    };
    if !valid_name(&draft.name) {
        fail(
            "name",
            "use lower-case letters, digits and underscores only (e.g. order_update)".into(),
        );
    }
    if !valid_language(&draft.language) {
        fail("language", "use a language code such as en, en_US or pt_BR".into());
    }
    let content = &draft.content;
    match &content.header {
        Some(TemplateHeader::Text { text, example }) => {
            if text.trim().is_empty() {
                fail("header", "the header text is empty".into());
            } else if text.chars().count() > MAX_HEADER_TEXT {
                fail(
                    "header",
                    format!("the header can have at most {MAX_HEADER_TEXT} characters"),
                );
            }
            match numbered_variables(text) {
                Ok(0) => {}
                Ok(1) if example.as_deref().is_some_and(|e| !e.trim().is_empty()) => {}
                Ok(1) => fail("headerExample", "give an example value for the header's {{1}}".into()),
                Ok(_) => fail("header", "a header can have only one variable, {{1}}".into()),
                Err(e) => fail("header", e),
            }
        }
        Some(TemplateHeader::Media { format, example }) => {
            if example.as_deref().is_none_or(|e| e.trim().is_empty()) {
                fail(
                    "headerExample",
                    format!("upload a sample {format} for Meta's review of the header"),
                );
            } else if example
                .as_deref()
                .is_some_and(|e| e.starts_with("http://") || e.starts_with("https://"))
            {
                fail(
                    "headerExample",
                    "Meta takes the header's sample as an uploaded file, not a link: upload it".into(),
                );
            }
        }
        None => {}
    }
    let body = content.body.trim();
    if body.is_empty() {
        fail("body", "the body is required".into());
    } else if content.body.chars().count() > MAX_BODY {
        fail("body", format!("the body can have at most {MAX_BODY} characters"));
    }
    match numbered_variables(&content.body) {
        Ok(count) => {
            let given = content.body_examples.iter().filter(|e| !e.trim().is_empty()).count();
            if given < count || content.body_examples.len() < count {
                fail(
                    "bodyExamples",
                    format!("give an example value for each of the body's {count} variable(s)"),
                );
            }
            if body.starts_with("{{") || body.ends_with("}}") {
                fail("body", "the body cannot start or end with a variable".into());
            }
        }
        Err(e) => fail("body", e),
    }
    if let Some(footer) = &content.footer {
        if footer.chars().count() > MAX_FOOTER {
            fail("footer", format!("the footer can have at most {MAX_FOOTER} characters"));
        }
        if footer.contains("{{") {
            fail("footer", "the footer cannot have variables".into());
        }
    }
    if content.buttons.len() > MAX_BUTTONS {
        fail("buttons", format!("a template can have at most {MAX_BUTTONS} buttons"));
    }
    for (i, button) in content.buttons.iter().enumerate() {
        let field = format!("buttons.{i}");
        let text = match button {
            TemplateButton::QuickReply { text } => text,
            TemplateButton::Url { text, url, example } => {
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    fail(&field, "a URL button needs an address starting with https://".into());
                }
                match numbered_variables(url) {
                    Ok(0) => {}
                    Ok(1) if url.trim_end().ends_with("{{1}}") => {
                        if example.as_deref().is_none_or(|e| e.trim().is_empty()) {
                            fail(&field, "give an example for the URL's {{1}}".into());
                        }
                    }
                    Ok(_) => fail(&field, "a URL can have one variable, {{1}}, at its end".into()),
                    Err(e) => fail(&field, e),
                }
                text
            }
            TemplateButton::PhoneNumber { text, phone_number } => {
                let digits = phone_number.chars().filter(char::is_ascii_digit).count();
                if !phone_number.trim_start().starts_with('+') || digits < 6 {
                    fail(&field, "use an international number starting with +".into());
                }
                text
            }
        };
        if text.trim().is_empty() {
            fail(&field, "a button needs a label".into());
        } else if text.chars().count() > MAX_BUTTON_TEXT {
            fail(
                &field,
                format!("a button label can have at most {MAX_BUTTON_TEXT} characters"),
            );
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// Meta's `components` array for `POST /{waba-id}/message_templates`.
pub fn to_meta_components(content: &TemplateContent) -> Value {
    let mut components = Vec::new();
    match &content.header {
        Some(TemplateHeader::Text { text, example }) => {
            let mut header = json!({ "type": "HEADER", "format": "TEXT", "text": text });
            if let Some(example) = example.as_ref().filter(|_| text.contains("{{")) {
                header["example"] = json!({ "header_text": [example] });
            }
            components.push(header);
        }
        Some(TemplateHeader::Media { format, example }) => {
            let mut header = json!({ "type": "HEADER", "format": format.as_str().to_ascii_uppercase() });
            if let Some(example) = example {
                header["example"] = json!({ "header_handle": [example] });
            }
            components.push(header);
        }
        None => {}
    }
    let mut body = json!({ "type": "BODY", "text": content.body });
    if !content.body_examples.is_empty() {
        body["example"] = json!({ "body_text": [content.body_examples] });
    }
    components.push(body);
    if let Some(footer) = content.footer.as_ref().filter(|f| !f.trim().is_empty()) {
        components.push(json!({ "type": "FOOTER", "text": footer }));
    }
    if !content.buttons.is_empty() {
        let buttons: Vec<Value> = content
            .buttons
            .iter()
            .map(|b| match b {
                TemplateButton::QuickReply { text } => json!({ "type": "QUICK_REPLY", "text": text }),
                TemplateButton::Url { text, url, example } => {
                    let mut button = json!({ "type": "URL", "text": text, "url": url });
                    if let Some(example) = example.as_ref().filter(|_| url.contains("{{")) {
                        button["example"] = json!([example]);
                    }
                    button
                }
                TemplateButton::PhoneNumber { text, phone_number } => {
                    json!({ "type": "PHONE_NUMBER", "text": text, "phone_number": phone_number })
                }
            })
            .collect();
        components.push(json!({ "type": "BUTTONS", "buttons": buttons }));
    }
    Value::Array(components)
}

fn text_of(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_string)
}

/// Reads Meta's `components` array (templates created elsewhere, or Meta's copy of ours).
pub fn from_meta_components(components: &Value) -> TemplateContent {
    let mut content = TemplateContent::default();
    for component in components.as_array().into_iter().flatten() {
        let kind = component
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_ascii_uppercase();
        match kind.as_str() {
            "HEADER" => {
                let format = component
                    .get("format")
                    .and_then(Value::as_str)
                    .unwrap_or("TEXT")
                    .to_ascii_lowercase();
                content.header = Some(match format.parse::<HeaderMedia>() {
                    Ok(media) => TemplateHeader::Media {
                        format: media,
                        example: component
                            .pointer("/example/header_handle/0")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                    },
                    Err(_) => TemplateHeader::Text {
                        text: text_of(component, "text").unwrap_or_default(),
                        example: component
                            .pointer("/example/header_text/0")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                    },
                });
            }
            "BODY" => {
                content.body = text_of(component, "text").unwrap_or_default();
                content.body_examples = component
                    .pointer("/example/body_text/0")
                    .and_then(Value::as_array)
                    .map(|values| values.iter().filter_map(Value::as_str).map(str::to_string).collect())
                    .unwrap_or_default();
            }
            "FOOTER" => content.footer = text_of(component, "text"),
            "BUTTONS" => {
                for button in component.get("buttons").and_then(Value::as_array).into_iter().flatten() {
                    let text = text_of(button, "text").unwrap_or_default();
                    let kind = button.get("type").and_then(Value::as_str).unwrap_or_default();
                    content.buttons.push(match kind.to_ascii_uppercase().as_str() {
                        "URL" => TemplateButton::Url {
                            text,
                            url: text_of(button, "url").unwrap_or_default(),
                            example: button.pointer("/example/0").and_then(Value::as_str).map(str::to_string),
                        },
                        "PHONE_NUMBER" => TemplateButton::PhoneNumber {
                            text,
                            phone_number: text_of(button, "phone_number").unwrap_or_default(),
                        },
                        _ => TemplateButton::QuickReply { text },
                    });
                }
            }
            _ => {}
        }
    }
    content
}

/// Replaces `{{n}}` with the n-th value; missing values stay visible as `{{n}}`.
pub fn fill(text: &str, values: &[String]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let inner = &after[..end];
        match inner
            .trim()
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| values.get(i))
        {
            Some(value) if !value.is_empty() => out.push_str(value),
            _ => {
                out.push_str("{{");
                out.push_str(inner);
                out.push_str("}}");
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// The text a customer sees: header, body and footer with the variables filled in.
pub fn render(content: &TemplateContent, header_param: Option<&str>, params: &[String]) -> String {
    let mut parts = Vec::new();
    if let Some(TemplateHeader::Text { text, .. }) = &content.header {
        let header_values: Vec<String> = header_param.map(str::to_string).into_iter().collect();
        parts.push(format!("*{}*", fill(text, &header_values)));
    }
    parts.push(fill(&content.body, params));
    if let Some(footer) = content.footer.as_ref().filter(|f| !f.trim().is_empty()) {
        parts.push(format!("_{footer}_"));
    }
    parts.join("\n\n")
}

/// Checks an agent's values against the template before anything is queued.
pub fn check_params(content: &TemplateContent, request: &TemplateSendRequest) -> Result<(), String> {
    let wanted = numbered_variables(&content.body)?;
    if request.params.len() != wanted {
        return Err(format!(
            "this template needs {wanted} value(s), {} given",
            request.params.len()
        ));
    }
    if let Some(i) = request.params.iter().position(|p| p.trim().is_empty()) {
        return Err(format!("fill in variable {{{{{}}}}}", i + 1));
    }
    if request.params.iter().any(|p| p.chars().count() > MAX_PARAM) {
        return Err(format!("a value can have at most {MAX_PARAM} characters"));
    }
    let header_param = request.header_param.as_deref().map(str::trim).filter(|p| !p.is_empty());
    match &content.header {
        Some(TemplateHeader::Text { text, .. }) if text.contains("{{") && header_param.is_none() => {
            return Err("fill in the header's variable".into());
        }
        Some(TemplateHeader::Media { format, .. }) if !header_param.is_some_and(|p| p.starts_with("https://")) => {
            return Err(format!("give an https:// link to the header {format}"));
        }
        _ => {}
    }
    let url_variable = content
        .buttons
        .iter()
        .any(|b| matches!(b, TemplateButton::Url { url, .. } if url.contains("{{")));
    if url_variable && request.button_param.as_deref().is_none_or(|p| p.trim().is_empty()) {
        return Err("fill in the button link's variable".into());
    }
    Ok(())
}

/// The `template` object for the Cloud API's `POST /{phone-number-id}/messages`.
pub fn send_payload(
    name: &str,
    language: &str,
    content: &TemplateContent,
    header_param: Option<&str>,
    params: &[String],
    button_param: Option<&str>,
) -> Value {
    let mut components = Vec::new();
    match (&content.header, header_param) {
        (Some(TemplateHeader::Text { text, .. }), Some(value)) if text.contains("{{") => {
            components.push(json!({ "type": "header", "parameters": [{ "type": "text", "text": value }] }));
        }
        (Some(TemplateHeader::Media { format, .. }), Some(link)) => {
            let kind = format.as_str();
            components.push(json!({ "type": "header", "parameters": [{ "type": kind, kind: { "link": link } }] }));
        }
        _ => {}
    }
    if !params.is_empty() {
        let parameters: Vec<Value> = params.iter().map(|p| json!({ "type": "text", "text": p })).collect();
        components.push(json!({ "type": "body", "parameters": parameters }));
    }
    for (index, button) in content.buttons.iter().enumerate() {
        if let (TemplateButton::Url { url, .. }, Some(value)) = (button, button_param)
            && url.contains("{{")
        {
            components.push(json!({
                "type": "button", "sub_type": "url", "index": index.to_string(),
                "parameters": [{ "type": "text", "text": value }],
            }));
        }
    }
    json!({ "name": name, "language": { "code": language }, "components": components })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(body: &str, examples: &[&str]) -> TemplateDraft {
        TemplateDraft {
            channel_id: 1,
            name: "order_update".into(),
            language: "en_US".into(),
            category: TemplateCategory::Utility,
            content: TemplateContent {
                body: body.into(),
                body_examples: examples.iter().map(|e| e.to_string()).collect(),
                ..Default::default()
            },
        }
    }

    fn fields(result: Result<(), Vec<FieldError>>) -> Vec<String> {
        result.err().unwrap_or_default().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn variables_must_be_numbered_in_order_with_examples() {
        assert!(validate(&draft("Hi {{1}}, order {{2}} shipped.", &["Ann", "#42"])).is_ok());
        assert_eq!(fields(validate(&draft("Hi {{2}} and {{1}}.", &["a", "b"]))), ["body"]);
        assert_eq!(
            fields(validate(&draft("Hi {{1}}, order {{2}}.", &["Ann"]))),
            ["bodyExamples"]
        );
        assert_eq!(fields(validate(&draft("Hi {{name}}.", &[]))), ["body"]);
        // Repeating a variable is fine; it is still one value.
        assert_eq!(numbered_variables("{{1}} and {{1}} again, then {{2}}"), Ok(2));
    }

    #[test]
    fn media_headers_need_an_uploaded_sample() {
        let with_header = |example: Option<&str>| {
            let mut d = draft("Spring is here.", &[]);
            d.content.header = Some(TemplateHeader::Media {
                format: HeaderMedia::Image,
                example: example.map(str::to_string),
            });
            d
        };
        assert_eq!(fields(validate(&with_header(None))), ["headerExample"]);
        assert_eq!(
            fields(validate(&with_header(Some("https://example.com/a.png")))),
            ["headerExample"]
        );
        assert!(validate(&with_header(Some("4::aW1hZ2UvcG5n:ARb"))).is_ok());
        assert_eq!(header_sample_format("image/png").map(|f| f.0), Some(HeaderMedia::Image));
        assert_eq!(header_sample_format("image/gif"), None);
    }

    #[test]
    fn names_languages_and_lengths_are_checked() {
        let mut bad = draft(&"x".repeat(MAX_BODY + 1), &[]);
        bad.name = "Order Update".into();
        bad.language = "english".into();
        bad.content.footer = Some("{{1}}".into());
        bad.content.buttons = vec![
            TemplateButton::Url {
                text: "Track".into(),
                url: "ftp://x".into(),
                example: None,
            },
            TemplateButton::PhoneNumber {
                text: "Call us now, we are waiting".into(),
                phone_number: "12".into(),
            },
        ];
        assert_eq!(
            fields(validate(&bad)),
            [
                "name",
                "language",
                "body",
                "footer",
                "buttons.0",
                "buttons.1",
                "buttons.1"
            ]
        );
    }

    #[test]
    fn meta_components_round_trip() {
        let content = TemplateContent {
            header: Some(TemplateHeader::Text {
                text: "Hello {{1}}".into(),
                example: Some("Ann".into()),
            }),
            body: "Your code {{1}} expires in {{2}} minutes.".into(),
            body_examples: vec!["1234".into(), "10".into()],
            footer: Some("Acme".into()),
            buttons: vec![
                TemplateButton::QuickReply { text: "Thanks".into() },
                TemplateButton::Url {
                    text: "Track".into(),
                    url: "https://acme.test/t/{{1}}".into(),
                    example: Some("ABC".into()),
                },
                TemplateButton::PhoneNumber {
                    text: "Call".into(),
                    phone_number: "+15550100".into(),
                },
            ],
        };
        let meta = to_meta_components(&content);
        assert_eq!(meta[1]["example"]["body_text"][0][1], "10");
        assert_eq!(from_meta_components(&meta), content);
    }

    #[test]
    fn rendering_and_send_payload() {
        let content = TemplateContent {
            body: "Hi {{1}}, order {{2}} shipped.".into(),
            body_examples: vec![],
            footer: Some("Acme".into()),
            ..Default::default()
        };
        assert_eq!(
            render(&content, None, &["Ann".into(), "#42".into()]),
            "Hi Ann, order #42 shipped.\n\n_Acme_"
        );
        assert_eq!(fill("Hi {{1}}, {{2}}", &["Ann".into()]), "Hi Ann, {{2}}");
        let payload = send_payload(
            "order_update",
            "en_US",
            &content,
            None,
            &["Ann".into(), "#42".into()],
            None,
        );
        assert_eq!(payload["language"]["code"], "en_US");
        assert_eq!(payload["components"][0]["parameters"][1]["text"], "#42");
        let request = TemplateSendRequest {
            params: vec!["Ann".into()],
            ..Default::default()
        };
        assert!(check_params(&content, &request).is_err());
    }
}

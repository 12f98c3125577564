//! `parse_mode: "HTML"` as Telegram applies it: the tags are turned into
//! `MessageEntity` objects over the tag-free text, or the send fails with
//! `Bad Request: can't parse entities: <reason>`.
//!
//! This follows TDLib's `parse_html` (`td/telegram/MessageEntity.cpp`, which the
//! Bot API server runs): the same allowed tags, the same treatment of `&`
//! (only `&lt;` `&gt;` `&amp;` `&quot;` and numeric references are decoded;
//! any other `&` stays a literal character, it is *not* an error), and the same
//! reason strings with byte offsets, so an adapter's error handling sees what
//! it would see from Telegram. Offsets and lengths count UTF-16 code units, as
//! the Bot API does.

use serde_json::{Value, json};

const ALLOWED_TAGS: &[&str] = &[
    "a",
    "b",
    "strong",
    "i",
    "em",
    "s",
    "strike",
    "del",
    "u",
    "ins",
    "tg-spoiler",
    "tg-emoji",
    "span",
    "pre",
    "code",
    "blockquote",
];

/// Text with its formatting, as Telegram stores a message.
#[derive(Clone, Debug, PartialEq)]
pub struct Formatted {
    pub text: String,
    /// `MessageEntity` objects, sorted by offset.
    pub entities: Vec<Value>,
}

struct OpenTag {
    name: String,
    argument: String,
    utf16_offset: usize,
    text_begin: usize,
}

/// Parses Telegram-flavoured HTML. `Err` holds TDLib's reason (without the
/// `Bad Request: can't parse entities: ` prefix).
pub fn parse_html(input: &str) -> Result<Formatted, String> {
    let bytes = input.as_bytes();
    let len = bytes.len();
    let mut text = String::with_capacity(len);
    let mut utf16_offset = 0usize;
    let mut open: Vec<OpenTag> = Vec::new();
    let mut entities: Vec<(usize, usize, Value)> = Vec::new();
    let mut i = 0usize;

    while i < len {
        let c = bytes[i];
        if c == b'&'
            && let Some((decoded, next)) = decode_entity(bytes, i)
        {
            text.push(decoded);
            utf16_offset += decoded.len_utf16();
            i = next;
            continue;
        }
        if c != b'<' {
            // `i` is always on a char boundary: it only advances by whole chars
            // or past ASCII bytes.
            let Some(ch) = input.get(i..).and_then(|rest| rest.chars().next()) else {
                break;
            };
            text.push(ch);
            utf16_offset += ch.len_utf16();
            i += ch.len_utf8();
            continue;
        }

        let begin = i;
        i += 1;
        if i < len && bytes[i] == b'/' {
            let Some(top) = open.last() else {
                return Err(format!("Unexpected end tag at byte offset {begin}"));
            };
            while i < len && !is_space(bytes[i]) && bytes[i] != b'>' {
                i += 1;
            }
            let end_name = lossy_lower(&bytes[begin + 2..i]);
            while i < len && is_space(bytes[i]) {
                i += 1;
            }
            if i >= len || bytes[i] != b'>' {
                return Err(format!("Unclosed end tag at byte offset {begin}"));
            }
            if !end_name.is_empty() && end_name != top.name {
                return Err(format!(
                    "Unmatched end tag at byte offset {begin}, expected \"</{}>\", found \"</{end_name}>\"",
                    top.name
                ));
            }
            let Some(tag) = open.pop() else {
                return Err(format!("Unexpected end tag at byte offset {begin}"));
            };
            if utf16_offset > tag.utf16_offset {
                let length = utf16_offset - tag.utf16_offset;
                if let Some(entity) = entity_for(&tag, &text, length, &mut entities)? {
                    entities.push((tag.utf16_offset, length, entity));
                }
            }
            i += 1;
            continue;
        }

        while i < len && !is_space(bytes[i]) && bytes[i] != b'>' {
            i += 1;
        }
        if i >= len {
            return Err(format!("Unclosed start tag at byte offset {begin}"));
        }
        let name = lossy_lower(&bytes[begin + 1..i]);
        if !ALLOWED_TAGS.contains(&name.as_str()) {
            return Err(format!("Unsupported start tag \"{name}\" at byte offset {begin}"));
        }
        let mut argument = String::new();
        while i < len && bytes[i] != b'>' {
            while i < len && is_space(bytes[i]) {
                i += 1;
            }
            if i >= len || bytes[i] == b'>' {
                break;
            }
            let attribute_begin = i;
            while i < len && !is_space(bytes[i]) && bytes[i] != b'=' && bytes[i] != b'>' {
                i += 1;
            }
            let attribute = lossy_lower(&bytes[attribute_begin..i]);
            if attribute.is_empty() {
                return Err(format!(
                    "Empty attribute name in the tag \"{name}\" at byte offset {begin}"
                ));
            }
            while i < len && is_space(bytes[i]) {
                i += 1;
            }
            // `<blockquote expandable>` is the one valueless attribute TDLib accepts.
            if name == "blockquote" && attribute == "expandable" && (i >= len || bytes[i] != b'=') {
                argument = "expandable".to_owned();
                continue;
            }
            if i >= len || bytes[i] != b'=' {
                return Err(format!(
                    "Expected equal sign in declaration of an attribute of the tag \"{name}\" at byte offset {begin}"
                ));
            }
            i += 1;
            while i < len && is_space(bytes[i]) {
                i += 1;
            }
            if i >= len {
                return Err(format!("Unclosed start tag \"{name}\" at byte offset {begin}"));
            }
            let value;
            if bytes[i] != b'\'' && bytes[i] != b'"' {
                let token_begin = i;
                while i < len && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.' || bytes[i] == b'-') {
                    i += 1;
                }
                value = lossy_lower(&bytes[token_begin..i]);
                if i < len && !is_space(bytes[i]) && bytes[i] != b'>' {
                    return Err(format!("Unexpected end of name token at byte offset {token_begin}"));
                }
            } else {
                let quote = bytes[i];
                i += 1;
                let mut decoded = Vec::new();
                while i < len && bytes[i] != quote {
                    if bytes[i] == b'&'
                        && let Some((ch, next)) = decode_entity(bytes, i)
                    {
                        let mut buffer = [0u8; 4];
                        decoded.extend_from_slice(ch.encode_utf8(&mut buffer).as_bytes());
                        i = next;
                        continue;
                    }
                    decoded.push(bytes[i]);
                    i += 1;
                }
                if i < len {
                    i += 1;
                }
                value = String::from_utf8_lossy(&decoded).into_owned();
            }
            if i >= len {
                return Err(format!("Unclosed start tag at byte offset {begin}"));
            }
            match (name.as_str(), attribute.as_str()) {
                ("a", "href") | ("tg-emoji", "emoji-id") => argument = value,
                ("code", "class") => {
                    if let Some(language) = value.strip_prefix("language-") {
                        argument = language.to_owned();
                    }
                }
                ("span", "class") => {
                    if let Some(kind) = value.strip_prefix("tg-") {
                        argument = kind.to_owned();
                    }
                }
                _ => {}
            }
        }
        if i >= len {
            return Err(format!("Unclosed start tag at byte offset {begin}"));
        }
        if name == "span" && argument != "spoiler" {
            return Err(format!(
                "Tag \"span\" must have class \"tg-spoiler\" at byte offset {begin}"
            ));
        }
        open.push(OpenTag {
            name,
            argument,
            utf16_offset,
            text_begin: text.len(),
        });
        i += 1;
    }

    if let Some(tag) = open.last() {
        return Err(format!(
            "Can't find end tag corresponding to start tag \"{}\"",
            tag.name
        ));
    }
    entities.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    Ok(Formatted {
        text,
        entities: entities.into_iter().map(|(_, _, entity)| entity).collect(),
    })
}

/// The entity a closed tag produces; `None` for an `<a>` without a usable URL.
/// `<pre><code class="language-x">` merges into one `pre` entity with a language,
/// as in TDLib.
fn entity_for(
    tag: &OpenTag,
    text: &str,
    length: usize,
    entities: &mut [(usize, usize, Value)],
) -> Result<Option<Value>, String> {
    let offset = tag.utf16_offset;
    let simple = |kind: &str| Ok(Some(json!({"type": kind, "offset": offset, "length": length})));
    match tag.name.as_str() {
        "b" | "strong" => simple("bold"),
        "i" | "em" => simple("italic"),
        "u" | "ins" => simple("underline"),
        "s" | "strike" | "del" => simple("strikethrough"),
        "tg-spoiler" | "span" => simple("spoiler"),
        "blockquote" if tag.argument == "expandable" => simple("expandable_blockquote"),
        "blockquote" => simple("blockquote"),
        "tg-emoji" => match tag.argument.parse::<i64>() {
            Ok(id) if id != 0 => Ok(Some(
                json!({"type": "custom_emoji", "offset": offset, "length": length, "custom_emoji_id": tag.argument}),
            )),
            _ => Err("Invalid custom emoji identifier specified".to_owned()),
        },
        "a" => {
            let url = if tag.argument.is_empty() {
                text.get(tag.text_begin..).unwrap_or_default().to_owned()
            } else {
                tag.argument.clone()
            };
            if url.is_empty() {
                return Ok(None);
            }
            Ok(Some(
                json!({"type": "text_link", "offset": offset, "length": length, "url": url}),
            ))
        }
        "pre" => {
            if let Some(last) = entities.last_mut()
                && last.0 == offset
                && last.1 == length
                && last.2["type"] == "code"
                && last.2.get("language").is_some()
            {
                last.2["type"] = json!("pre");
                return Ok(None);
            }
            simple("pre")
        }
        "code" => {
            if tag.argument.is_empty() {
                simple("code")
            } else {
                // Kept only if an enclosing `<pre>` turns it into a `pre` block.
                Ok(Some(
                    json!({"type": "code", "offset": offset, "length": length, "language": tag.argument}),
                ))
            }
        }
        _ => Ok(None),
    }
}

/// Removes the `language` a bare `<code class=...>` carried when no `<pre>`
/// claimed it (TDLib drops it the same way).
pub fn finish_entities(entities: &mut [Value]) {
    for entity in entities.iter_mut() {
        if entity["type"] == "code"
            && let Some(object) = entity.as_object_mut()
        {
            object.remove("language");
        }
    }
}

fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c)
}

fn lossy_lower(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_lowercase()
}

/// TDLib's `decode_html_entity`: the character and the index just past the
/// reference (and its optional `;`), or `None` when `&` starts no reference.
fn decode_entity(bytes: &[u8], position: usize) -> Option<(char, usize)> {
    let mut end = position + 1;
    let code: u32;
    if bytes.get(end) == Some(&b'#') {
        end += 1;
        let hex = matches!(bytes.get(end), Some(b'x' | b'X'));
        if hex {
            end += 1;
        }
        let digits_begin = end;
        let mut value: u32 = 0;
        while let Some(&byte) = bytes.get(end) {
            let digit = if hex {
                (byte as char).to_digit(16)
            } else {
                (byte as char).to_digit(10)
            };
            let Some(digit) = digit else { break };
            value = value.checked_mul(if hex { 16 } else { 10 })?.checked_add(digit)?;
            if value >= 0x10ffff {
                return None;
            }
            end += 1;
        }
        if end == digits_begin || value == 0 {
            return None;
        }
        code = value;
    } else {
        while bytes.get(end).is_some_and(u8::is_ascii_alphabetic) {
            end += 1;
        }
        code = match &bytes[position + 1..end] {
            b"lt" => u32::from('<'),
            b"gt" => u32::from('>'),
            b"amp" => u32::from('&'),
            b"quot" => u32::from('"'),
            _ => return None,
        };
    }
    let decoded = char::from_u32(code)?;
    if bytes.get(end) == Some(&b';') {
        end += 1;
    }
    Some((decoded, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_become_entities_over_plain_text() {
        let parsed = parse_html("Hi <b>Ada</b> &amp; <a href=\"https://x.test/\">docs</a> &co").expect("valid");
        assert_eq!(parsed.text, "Hi Ada & docs &co");
        assert_eq!(parsed.entities[0], json!({"type":"bold","offset":3,"length":3}));
        assert_eq!(
            parsed.entities[1],
            json!({"type":"text_link","offset":9,"length":4,"url":"https://x.test/"})
        );
    }

    #[test]
    fn offsets_count_utf16_units() {
        let parsed = parse_html("😀 <i>x</i>").expect("valid");
        assert_eq!(parsed.entities[0]["offset"], 3);
    }

    #[test]
    fn malformed_html_gets_tdlib_reasons() {
        assert_eq!(
            parse_html("<div>x</div>"),
            Err("Unsupported start tag \"div\" at byte offset 0".to_owned())
        );
        assert_eq!(
            parse_html("a <b>x"),
            Err("Can't find end tag corresponding to start tag \"b\"".to_owned())
        );
        assert_eq!(
            parse_html("x</b>"),
            Err("Unexpected end tag at byte offset 1".to_owned())
        );
        assert_eq!(
            parse_html("<b>x</i>"),
            Err("Unmatched end tag at byte offset 4, expected \"</b>\", found \"</i>\"".to_owned())
        );
        assert_eq!(
            parse_html("1 <b"),
            Err("Unclosed start tag at byte offset 2".to_owned())
        );
        assert!(parse_html("<span class=\"x\">y</span>").is_err());
        assert!(parse_html("<span class=\"tg-spoiler\">y</span>").is_ok());
    }

    #[test]
    fn pre_with_code_language_is_one_entity() {
        let mut parsed = parse_html("<pre><code class=\"language-rust\">fn</code></pre>").expect("valid");
        finish_entities(&mut parsed.entities);
        assert_eq!(
            parsed.entities,
            vec![json!({"type":"pre","offset":0,"length":2,"language":"rust"})]
        );
    }
}

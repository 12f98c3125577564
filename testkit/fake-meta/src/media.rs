//! WhatsApp Cloud API media: upload (`POST /{phone-number-id}/media`,
//! multipart `file`, `type`, `messaging_product`), retrieval of the media
//! URL (`GET /{media-id}` → `{"messaging_product","url","mime_type",
//! "sha256","file_size","id"}`), deletion (`DELETE /{media-id}`), and the
//! download itself.
//!
//! Meta serves media from `https://lookaside.fbsbx.com/whatsapp_business/
//! attachments/?mid=…&ext=…&hash=…`, and only to requests that carry the
//! access token in an `Authorization: Bearer` header. The fake serves the
//! same path on its own address with the same rule: 401 without a valid
//! token, 404 for unknown or deleted media.
//!
//! Media a customer "sends" through the control API gets real bytes: a
//! generated PNG for images, and tiny files with the right signature for
//! the other kinds.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::errors::GraphError;
use super::graph::{GraphRequest, GraphResult, authorization_token, token_of};
use super::state::{Shared, TokenKind};
use super::wa_state::{MediaState, new_numeric_id};
use super::whatsapp::{wa_token_error, waba_access};

/// MIME types the Cloud API accepts for upload ("Supported media types").
const SUPPORTED_TYPES: &[&str] = &[
    "audio/aac",
    "audio/amr",
    "audio/mpeg",
    "audio/mp4",
    "audio/ogg",
    "text/plain",
    "application/pdf",
    "application/vnd.ms-powerpoint",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "image/jpeg",
    "image/png",
    "image/webp",
    "video/3gpp",
    "video/mp4",
];

/// The lookaside path media URLs point to (on the fake's own address).
pub(crate) const DOWNLOAD_PATH: &str = "/whatsapp_business/attachments/";

/// Stores a media object; returns its id.
pub(crate) fn store(
    shared: &Shared,
    phone_number_id: &str,
    mime_type: &str,
    bytes: Vec<u8>,
    filename: Option<String>,
    uploaded: bool,
) -> (String, String) {
    let id = new_numeric_id();
    let digest = Sha256::digest(&bytes);
    let media = MediaState {
        id: id.clone(),
        phone_number_id: phone_number_id.to_owned(),
        mime_type: mime_type.to_owned(),
        sha256: hex::encode(digest),
        bytes,
        filename,
        uploaded,
        deleted: false,
    };
    shared.lock().wa.media.push(media);
    // Inbound webhooks carry the hash base64-encoded.
    (id, STANDARD.encode(digest))
}

/// `POST /{phone-number-id}/media` (multipart/form-data) → `{"id"}`.
pub(crate) async fn upload(
    State(shared): State<Arc<Shared>>,
    Path(phone_id): Path<String>,
    request: Request,
) -> Response {
    let token = token_of(request.uri(), request.headers());
    {
        let world = shared.lock();
        let Some(phone) = world.wa.phone(&phone_id) else {
            return GraphError::unsupported("post", &phone_id).into_response();
        };
        if let Err(error) = waba_access(&world, token.as_deref(), &phone.waba_id, &phone_id, "post") {
            return error.into_response();
        }
    }
    let mut multipart = match Multipart::from_request(request, &()).await {
        Ok(multipart) => multipart,
        Err(_) => return GraphError::param("(#100) The parameter file is required.").into_response(),
    };
    let mut product = None;
    let mut kind = None;
    let mut file: Option<(Vec<u8>, Option<String>, Option<String>)> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => {
                return GraphError::param(format!("(#100) Could not read the upload: {error}")).into_response();
            }
        };
        let name = field.name().unwrap_or("").to_owned();
        match name.as_str() {
            "file" => {
                let filename = field.file_name().map(str::to_owned);
                let content_type = field.content_type().map(str::to_owned);
                match field.bytes().await {
                    Ok(bytes) => file = Some((bytes.to_vec(), filename, content_type)),
                    Err(error) => {
                        return GraphError::param(format!("(#100) Could not read the upload: {error}")).into_response();
                    }
                }
            }
            "messaging_product" | "type" => {
                let value = field.text().await.unwrap_or_default();
                if name == "type" {
                    kind = Some(value);
                } else {
                    product = Some(value);
                }
            }
            _ => {}
        }
    }
    if product.as_deref() != Some("whatsapp") {
        return GraphError::param("(#100) The parameter messaging_product is required.").into_response();
    }
    let Some((bytes, filename, part_type)) = file else {
        return GraphError::param("(#100) The parameter file is required.").into_response();
    };
    let Some(mime) = kind.filter(|k| !k.is_empty()).or(part_type) else {
        return GraphError::param("(#100) The parameter type is required.").into_response();
    };
    let base_mime = mime.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if !SUPPORTED_TYPES.contains(&base_mime.as_str()) {
        return GraphError::cloud(
            131_053,
            "Media upload error",
            format!(
                "Param file must be a file with one of the following types: {}. Received file of type '{mime}'.",
                SUPPORTED_TYPES.join(", ")
            ),
        )
        .into_response();
    }
    if bytes.is_empty() {
        return GraphError::cloud(131_053, "Media upload error", "The uploaded file is empty.").into_response();
    }
    let (id, _) = store(&shared, &phone_id, &mime, bytes, filename, true);
    tracing::info!(phone_id, id, mime, "fake-meta: media uploaded");
    Json(json!({ "id": id })).into_response()
}

/// `GET /{media-id}` (optionally `?phone_number_id=`): the media URL.
pub(crate) fn metadata(shared: &Shared, media_id: &str, phone_number_id: &str, req: &GraphRequest) -> GraphResult {
    let world = shared.lock();
    let Some(waba_id) = world.wa.phone(phone_number_id).map(|p| p.waba_id.clone()) else {
        return Err(GraphError::unsupported_get(media_id));
    };
    waba_access(&world, req.access_token(), &waba_id, media_id, "get")?;
    if req.get("phone_number_id").is_some_and(|p| p != phone_number_id) {
        return Err(GraphError::unsupported_get(media_id));
    }
    let Some(media) = world.wa.media(media_id) else {
        return Err(GraphError::unsupported_get(media_id));
    };
    let expires = super::wa_payloads::now_secs() + 300;
    let hash = STANDARD.encode(Sha256::digest(format!("{media_id}:{expires}").as_bytes()));
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("mid", media_id)
        .append_pair("ext", &expires.to_string())
        .append_pair("hash", &hash)
        .finish();
    Ok(Json(json!({
        "messaging_product": "whatsapp",
        "url": format!("{}{DOWNLOAD_PATH}?{query}", shared.base_url),
        "mime_type": media.mime_type,
        "sha256": media.sha256,
        "file_size": media.bytes.len(),
        "id": media.id,
    })))
}

/// `DELETE /{media-id}` → `{"success":true}`. Other ids cannot be deleted.
pub(crate) fn delete(shared: &Shared, id: &str, req: &GraphRequest) -> GraphResult {
    let mut world = shared.lock();
    let Some(phone_id) = world.wa.media(id).map(|m| m.phone_number_id.clone()) else {
        return Err(match world.classify_token(req.access_token()) {
            kind @ (TokenKind::Missing | TokenKind::Invalid | TokenKind::Expired { .. }) => wa_token_error(kind),
            _ => GraphError::unsupported("delete", id),
        });
    };
    let waba_id = world.wa.phone(&phone_id).map(|p| p.waba_id.clone()).unwrap_or_default();
    waba_access(&world, req.access_token(), &waba_id, id, "delete")?;
    if req.get("phone_number_id").is_some_and(|p| p != phone_id) {
        return Err(GraphError::unsupported("delete", id));
    }
    for media in world.wa.media.iter_mut().filter(|m| m.id == id) {
        media.deleted = true;
        media.bytes = Vec::new();
    }
    Ok(Json(json!({ "success": true })))
}

/// `GET /whatsapp_business/attachments/?mid=…`: the bytes, for a request
/// with a valid token in `Authorization: Bearer` (401 otherwise); 404 for
/// unknown, deleted or inaccessible media.
pub(crate) async fn download(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let world = shared.lock();
    let token = authorization_token(&headers);
    let allowed_waba = match world.classify_token(token.as_deref()) {
        TokenKind::User => None,
        TokenKind::Waba(id) => Some(id),
        _ => {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "Unauthorized: a valid access token is required in the Authorization header.",
            )
                .into_response();
        }
    };
    let media = query.get("mid").and_then(|mid| world.wa.media(mid));
    let visible = media.filter(|m| {
        allowed_waba
            .as_deref()
            .is_none_or(|waba| world.wa.phone(&m.phone_number_id).is_some_and(|p| p.waba_id == waba))
    });
    let Some(media) = visible else {
        return (StatusCode::NOT_FOUND, "Not Found").into_response();
    };
    let mut response = ([(header::CONTENT_TYPE, media.mime_type.clone())], media.bytes.clone()).into_response();
    if let Some(name) = &media.filename
        && let Ok(value) = format!("attachment; filename=\"{}\"", name.replace('"', "")).parse()
    {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

// ---------------------------------------------------------------------------
// Generated files for customers' media
// ---------------------------------------------------------------------------

/// Bytes and MIME type for a customer's media of `kind` (`image`, `video`,
/// `audio`, `document`, `sticker`). `seed` varies the picture.
pub(crate) fn generated(kind: &str, seed: &str) -> (&'static str, Vec<u8>) {
    match kind {
        "image" => ("image/png", png_picture(seed)),
        "video" => ("video/mp4", mp4_stub()),
        "audio" => ("audio/ogg; codecs=opus", ogg_stub()),
        "sticker" => ("image/webp", webp_pixel()),
        _ => ("application/pdf", pdf_stub(seed)),
    }
}

/// A 32×32 PNG: a colour derived from `seed` with a diagonal stripe.
pub(crate) fn png_picture(seed: &str) -> Vec<u8> {
    let hash = Sha256::digest(seed.as_bytes());
    let base = [hash[0], hash[1], hash[2]];
    png(32, 32, |x, y| if (x + y) % 8 < 2 { [255, 255, 255] } else { base })
}

fn png(width: u32, height: u32, pixel: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(((width * 3 + 1) * height) as usize);
    for y in 0..height {
        raw.push(0); // filter: none
        for x in 0..width {
            raw.extend_from_slice(&pixel(x, y));
        }
    }
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, no interlace
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    png_chunk(&mut out, b"IHDR", &ihdr);
    png_chunk(&mut out, b"IDAT", &zlib_stored(&raw));
    png_chunk(&mut out, b"IEND", &[]);
    out
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&u32::try_from(data.len()).unwrap_or(0).to_be_bytes());
    let mut crc_input = kind.to_vec();
    crc_input.extend_from_slice(data);
    out.extend_from_slice(&crc_input);
    out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
}

/// A zlib stream of uncompressed ("stored") deflate blocks.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = if data.is_empty() {
        vec![&[]]
    } else {
        data.chunks(65_535).collect()
    };
    let count = blocks.len();
    for (i, block) in blocks.into_iter().enumerate() {
        out.push(u8::from(i + 1 == count));
        let len = u16::try_from(block.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for byte in data {
        a = (a + u32::from(*byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in data {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// An MP4 `ftyp` box followed by an empty `free` box.
fn mp4_stub() -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&[0, 0, 0, 0x18]);
    out.extend_from_slice(b"ftypisom");
    out.extend_from_slice(&[0, 0, 2, 0]);
    out.extend_from_slice(b"isommp41");
    out.extend_from_slice(&[0, 0, 0, 8]);
    out.extend_from_slice(b"free");
    out
}

/// An Ogg page header followed by an `OpusHead` packet.
fn ogg_stub() -> Vec<u8> {
    let mut out = b"OggS".to_vec();
    out.extend_from_slice(&[0, 2]);
    out.extend_from_slice(&[0; 20]);
    out.extend_from_slice(&[1, 19]);
    out.extend_from_slice(b"OpusHead");
    out.extend_from_slice(&[1, 1, 0x38, 1, 0x80, 0xbb, 0, 0, 0, 0, 0]);
    out
}

/// A 1×1 lossless WebP.
fn webp_pixel() -> Vec<u8> {
    STANDARD
        .decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
        .unwrap_or_default()
}

/// A one-page PDF saying which media it is.
fn pdf_stub(seed: &str) -> Vec<u8> {
    format!(
        "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n% fake-meta document {seed}\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_and_png_are_well_formed() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        let png = png_picture("x");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert_eq!(&png[12..16], b"IHDR");
        assert!(png.ends_with(&[0xAE, 0x42, 0x60, 0x82]));
        assert!(webp_pixel().starts_with(b"RIFF"));
    }
}

//! Instagram Messaging (Messenger API for Instagram) on the Graph API:
//! Instagram professional account nodes, the Instagram User Profile API
//! for IGSIDs, and sending through the Page's Send API endpoint.
//!
//! Sends use the Page access token of the Page linked to the Instagram
//! account (`POST /{page-id}/messages` or `/me/messages` with
//! `recipient.id` = IGSID) and answer like Messenger:
//! `{"recipient_id","message_id"}`. Instagram's window: 24 hours after the
//! customer's last message; up to 7 days with `tag: "HUMAN_AGENT"`; beyond
//! that nothing. Outside it Meta answers code 10, subcode 2534022 ("This
//! message is sent outside of allowed window").

use std::sync::Arc;

use axum::Json;
use serde_json::{Value, json};

use super::errors::GraphError;
use super::fetch::Prefetched;
use super::graph::{GraphRequest, GraphResult, select_fields, token_error};
use super::ig_payloads::{ig_echo_of, instagram_webhook, new_ig_mid};
use super::ig_state::{IG_HUMAN_AGENT_MS, IG_WINDOW_MS, IgAccountState};
use super::payloads::now_ms;
use super::state::{Shared, TokenKind};
use super::webhook::{FOLLOW_UP_DELAY, deliver_instagram};
use super::{Platform, SentMessage};

/// The Instagram account as a Graph node, limited to `fields` (all of
/// `id, username, name, profile_picture_url` when empty), with `id` always.
pub(crate) fn account_node(base_url: &str, account: &IgAccountState, fields: &[&str]) -> Value {
    let picture = account
        .profile_picture_url
        .clone()
        .unwrap_or_else(|| format!("{base_url}/_fake/media/{}.svg", account.username));
    let full = json!({
        "id": account.id,
        "username": account.username,
        "name": account.name,
        "profile_picture_url": picture,
    });
    if fields.is_empty() {
        json!({ "id": account.id })
    } else {
        select_fields(full, Some(fields))
    }
}

/// `GET /{id}` for an Instagram account (Page token of its Page, or a user
/// token) or an IGSID (Page token of the linked Page: Instagram User
/// Profile API, `name, username, profile_pic, …`). `None` when the id is
/// neither.
pub(crate) fn node(shared: &Arc<Shared>, id: &str, req: &GraphRequest) -> Option<GraphResult> {
    let world = shared.lock();
    let token = world.classify_token(req.access_token());
    if let Some(account) = world.ig.account(id) {
        let answer = match token {
            TokenKind::User => Ok(()),
            TokenKind::Page(page) if page == account.page_id => Ok(()),
            TokenKind::Page(_) | TokenKind::Waba(_) => Err(GraphError::unsupported_get(id)),
            other => Err(token_error(other)),
        };
        let fields = req.fields().unwrap_or_else(|| vec!["id", "username"]);
        return Some(answer.map(|()| Json(account_node(&shared.base_url, account, &fields))));
    }
    let TokenKind::Page(page_id) = token else {
        return None;
    };
    let account = world.ig.account_for_page(&page_id)?;
    let customer = account.customers.iter().find(|c| c.igsid == id)?;
    let pic = customer
        .profile_pic
        .clone()
        .unwrap_or_else(|| format!("{}/_fake/avatar/{}.svg", shared.base_url, customer.igsid));
    let full = json!({
        "name": customer.name,
        "username": customer.username,
        "profile_pic": pic,
        "follower_count": 42,
        "is_user_follow_business": true,
        "is_business_follow_user": false,
        "is_verified_user": false,
        "id": customer.igsid,
    });
    let fields = req.fields();
    let default_fields = ["name", "username", "profile_pic"];
    Some(Ok(Json(select_fields(
        full,
        Some(fields.as_deref().unwrap_or(&default_fields)),
    ))))
}

/// The Send API for an Instagram recipient (`page_id`'s token already
/// checked, `body` parsed). Checks the message, then Instagram's window,
/// then the attachment download (`prefetched`, done by the async handler).
pub(crate) fn send(
    shared: &Arc<Shared>,
    page_id: &str,
    ig_id: &str,
    igsid: &str,
    body: &Value,
    prefetched: Prefetched,
) -> GraphResult {
    let message = body.get("message").cloned().unwrap_or(Value::Null);
    let has_text = message
        .get("text")
        .and_then(Value::as_str)
        .is_some_and(|t| !t.is_empty());
    if !has_text && message.get("attachment").is_none() {
        return Err(
            GraphError::param("(#100) Message cannot be empty, must provide valid attachment or text")
                .subcode(2_018_034),
        );
    }
    let now = now_ms();
    let mut world = shared.lock();
    let age = world.ig.last_message.get(igsid).map(|last| now - last);
    let human_agent = body.get("tag").and_then(Value::as_str) == Some("HUMAN_AGENT");
    let allowed = match age {
        Some(age) if age < IG_WINDOW_MS => true,
        Some(age) if age < IG_HUMAN_AGENT_MS => human_agent,
        _ => false,
    };
    if !allowed {
        return Err(GraphError::new(10, "(#10) This message is sent outside of allowed window.").subcode(2_534_022));
    }
    let attachment = prefetched.transpose()?;
    let message_id = new_ig_mid();
    tracing::info!(
        page_id,
        ig_id,
        igsid,
        message_id,
        "fake-meta: Instagram message accepted"
    );
    world.sent.push(SentMessage {
        platform: Platform::Instagram,
        page_id: page_id.to_owned(),
        instagram_id: Some(ig_id.to_owned()),
        recipient_id: igsid.to_owned(),
        body: body.clone(),
        message_id: message_id.clone(),
        timestamp_ms: now,
        attachment,
    });
    if world.echo {
        let echo = instagram_webhook(ig_id, vec![ig_echo_of(ig_id, igsid, &message_id, &message, now)]);
        let shared = Arc::clone(shared);
        tokio::spawn(async move {
            tokio::time::sleep(FOLLOW_UP_DELAY).await;
            deliver_instagram(&shared, &echo).await;
        });
    }
    Ok(Json(json!({ "recipient_id": igsid, "message_id": message_id })))
}

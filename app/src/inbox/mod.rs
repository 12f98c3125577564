//! Server functions behind the inbox page: conversations, threads, replies, status and
//! assignment. The REST API offers the same operations (server crate, `api/`).

#[cfg(feature = "ssr")]
use crate::auth::context;
use crate::error::AppError;
use crate::model::*;
use leptos::prelude::*;

#[server(prefix = "/rpc")]
pub async fn list_conversations(#[server(default)] filter: ConversationFilter) -> Result<Page<Conversation>, AppError> {
    let user = context::user().await?;
    context::services()?.conversations(&user, &filter).await
}

#[server(prefix = "/rpc")]
pub async fn get_conversation(id: Id) -> Result<ConversationDetail, AppError> {
    let user = context::user().await?;
    context::services()?.conversation_detail(&user, id).await
}

#[server(prefix = "/rpc")]
pub async fn list_messages(conversation_id: Id, before: Option<Id>) -> Result<Page<Message>, AppError> {
    let user = context::user().await?;
    context::services()?
        .messages(&user, conversation_id, before, None)
        .await
}

#[server(prefix = "/rpc")]
pub async fn send_message(request: SendRequest) -> Result<Message, AppError> {
    let user = context::user().await?;
    context::services()?.send_message(&user, request).await
}

#[server(prefix = "/rpc")]
pub async fn list_notes(conversation_id: Id) -> Result<Vec<Note>, AppError> {
    let user = context::user().await?;
    context::services()?.notes(&user, conversation_id).await
}

#[server(prefix = "/rpc")]
pub async fn add_note(conversation_id: Id, content: String) -> Result<Note, AppError> {
    let user = context::user().await?;
    let request = NoteRequest {
        conversation_id: Some(conversation_id),
        content,
        mentions: vec![],
    };
    context::services()?.add_note(&user, conversation_id, request).await
}

#[server(prefix = "/rpc")]
pub async fn delete_note(id: Id) -> Result<(), AppError> {
    let user = context::user().await?;
    context::services()?.delete_note(&user, id).await
}

/// The caller's @mentions, newest first (only the unread ones when asked).
#[server(prefix = "/rpc")]
pub async fn list_mentions(unread_only: bool) -> Result<Vec<Mention>, AppError> {
    let user = context::user().await?;
    context::services()?.mentions(&user, unread_only).await
}

#[server(prefix = "/rpc")]
pub async fn read_mention(note_id: Id) -> Result<Mention, AppError> {
    let user = context::user().await?;
    context::services()?.read_mention(&user, note_id).await
}

/// Changes a sent reply's text (`Some`) or takes it back (`None`), where the platform allows.
#[server(prefix = "/rpc")]
pub async fn revise_message(id: Id, content: Option<String>) -> Result<Message, AppError> {
    let user = context::user().await?;
    context::services()?.gateway.revise_message(&user, id, content).await
}

#[server(prefix = "/rpc")]
pub async fn retry_message(id: Id) -> Result<Message, AppError> {
    let user = context::user().await?;
    context::services()?.retry_message(&user, id).await
}

#[server(prefix = "/rpc")]
pub async fn set_conversation_status(id: Id, status: ConversationStatus) -> Result<Conversation, AppError> {
    let user = context::user().await?;
    context::services()?.set_status(&user, id, status).await
}

/// Assigns to a teammate, or unassigns with `None`.
#[server(prefix = "/rpc")]
pub async fn assign_conversation(id: Id, assignee_id: Option<Id>) -> Result<Conversation, AppError> {
    let user = context::user().await?;
    context::services()?.assign(&user, id, assignee_id).await
}

#[server(prefix = "/rpc")]
pub async fn mark_conversation_read(id: Id) -> Result<Conversation, AppError> {
    let user = context::user().await?;
    context::services()?.mark_read(&user, id).await
}

/// The last event number, where a freshly loaded page starts listening from.
#[server(prefix = "/rpc")]
pub async fn latest_event_seq() -> Result<i64, AppError> {
    let user = context::user().await?;
    Ok(context::services()?.store.latest_seq(user.organization_id).await?)
}

//! Changing and taking back replies that were sent: one path for every kind whose platform
//! allows it (`Platform::edits_sent`, `deletes_sent`). The platform is asked first, so the
//! thread never shows a change the customer does not see; only then is the change stored and
//! `message:updated` published. The sender of a reply may change it, and so may the
//! organization's owners and admins.

use super::gateway::{PlatformGateway, upstream};
use app::error::{AppError, AppResult};
use app::model::{Direction, Id, Message, MessageStatus, User};
use app::services::MAX_MESSAGE_CHARS;

impl PlatformGateway {
    pub(crate) async fn revise_sent(
        &self,
        user: &User,
        message_id: Id,
        revision: Option<String>,
    ) -> AppResult<Message> {
        let (message, channel) = self
            .store
            .message_with_channel(user.organization_id, message_id)
            .await?;
        if message.direction != Direction::Outbound {
            return Err(AppError::invalid(
                "only replies sent from Messio can be changed or taken back",
            ));
        }
        if message.sender_user_id != Some(user.id) && !user.role.can_manage() {
            return Err(AppError::Forbidden(
                "only the agent who sent a reply, or an owner or admin, can change it".into(),
            ));
        }
        if message.deleted_at.is_some() {
            return Err(AppError::invalid("this message was already taken back"));
        }
        let platform = channel.channel.kind.platform();
        let allowed = match revision {
            Some(_) => platform.edits_sent,
            None => platform.deletes_sent,
        };
        if !allowed {
            return Err(AppError::invalid(format!(
                "{} does not let a sent message be {}",
                platform.name,
                if revision.is_some() { "changed" } else { "taken back" }
            )));
        }
        let platform_message_id = message
            .platform_message_id
            .clone()
            .filter(|_| {
                matches!(
                    message.status,
                    MessageStatus::Sent | MessageStatus::Delivered | MessageStatus::Read
                )
            })
            .ok_or_else(|| AppError::invalid("only a reply that was sent can be changed or taken back"))?;
        let revision = match revision {
            Some(text) => {
                let text = text.trim_end().to_string();
                if text.trim().is_empty() {
                    return Err(AppError::invalid(
                        "the new text is empty; take the message back instead",
                    ));
                }
                if text.chars().count() > MAX_MESSAGE_CHARS {
                    return Err(AppError::invalid(format!(
                        "a message can have at most {MAX_MESSAGE_CHARS} characters"
                    )));
                }
                Some(text)
            }
            None => None,
        };
        let credentials = self
            .secrets
            .open(&channel.credentials)
            .map_err(|_| AppError::invalid("the channel's credentials are unreadable; reconnect it"))?;
        let adapter = self.adapters.get(channel.channel.kind);
        match &revision {
            Some(text) => {
                adapter
                    .edit_sent(&credentials, &channel, &platform_message_id, text)
                    .await
            }
            None => adapter.delete_sent(&credentials, &channel, &platform_message_id).await,
        }
        .map_err(upstream)?;
        let written = self
            .store
            .revise_sent(user.organization_id, message_id, revision.as_deref())
            .await?;
        self.events.publish(&written.events);
        Ok(written.value)
    }
}

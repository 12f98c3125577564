//! Files agents attach to replies. The bytes live in the media folder; this keeps what they
//! are, who uploaded them and for which of the organization's conversations.

use super::backend::{Backend, SqlStore};
use super::sql::{map_unique, parse};
use super::{StoreError, StoreResult, now_millis};
use crate::attachments::{UploadedFile, upload_url};
use crate::model::{AttachmentKind, Id};
use async_trait::async_trait;
use sqlx::Row;

/// A file an agent uploaded, to record once its bytes are safely in the media folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUpload {
    /// Random and unguessable: it names the file on disk and in URLs.
    pub id: String,
    pub conversation_id: Id,
    pub uploaded_by: Id,
    pub name: String,
    pub mime_type: String,
    pub kind: AttachmentKind,
    pub size: u64,
    pub sha256: String,
}

/// An upload as recorded, with what only the server needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRecord {
    pub file: UploadedFile,
    pub organization_id: Id,
    pub conversation_id: Id,
    pub sha256: String,
}

#[async_trait]
pub trait UploadStore: Send + Sync {
    /// Records an upload for one of the organization's conversations (else `NotFound`).
    async fn record_upload(&self, org_id: Id, upload: NewUpload) -> StoreResult<UploadRecord>;
    async fn upload(&self, org_id: Id, upload_id: &str) -> StoreResult<UploadRecord>;
}

#[async_trait]
impl<B: Backend> UploadStore for SqlStore<B> {
    async fn record_upload(&self, org_id: Id, upload: NewUpload) -> StoreResult<UploadRecord> {
        let size = i64::try_from(upload.size).map_err(|_| StoreError::Invalid("the file is too large".into()))?;
        let done = sqlx::query(
            "INSERT INTO uploads (id, organization_id, conversation_id, uploaded_by, file_name, mime_type, kind, \
             size_bytes, sha256, created_at) \
             SELECT $1, organization_id, id, $3, $4, $5, $6, $7, $8, $9 FROM conversations \
             WHERE id = $2 AND organization_id = $10",
        )
        .bind(&upload.id)
        .bind(upload.conversation_id)
        .bind(upload.uploaded_by)
        .bind(&upload.name)
        .bind(&upload.mime_type)
        .bind(upload.kind.as_str())
        .bind(size)
        .bind(&upload.sha256)
        .bind(now_millis())
        .bind(org_id)
        .execute(&self.writer)
        .await
        .map_err(|e| map_unique(e, "an upload with this id already exists"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.upload(org_id, &upload.id).await
    }

    async fn upload(&self, org_id: Id, upload_id: &str) -> StoreResult<UploadRecord> {
        let row = sqlx::query(
            "SELECT id, organization_id, conversation_id, file_name, mime_type, kind, size_bytes, sha256 \
             FROM uploads WHERE organization_id = $1 AND id = $2",
        )
        .bind(org_id)
        .bind(upload_id)
        .fetch_optional(&self.reader)
        .await?
        .ok_or(StoreError::NotFound)?;
        let id: String = row.try_get("id")?;
        let kind: String = row.try_get("kind")?;
        let size: i64 = row.try_get("size_bytes")?;
        Ok(UploadRecord {
            file: UploadedFile {
                url: upload_url(&id),
                id,
                kind: parse(&kind, "attachment kind")?,
                name: row.try_get("file_name")?,
                mime_type: row.try_get("mime_type")?,
                size: u64::try_from(size).unwrap_or_default(),
            },
            organization_id: row.try_get("organization_id")?,
            conversation_id: row.try_get("conversation_id")?,
            sha256: row.try_get("sha256")?,
        })
    }
}

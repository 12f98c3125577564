//! WhatsApp message templates, as Meta knows them, per WhatsApp Business Account: their
//! content, Meta's review outcome, and how often agents used each.

use super::backend::{Backend, SqlStore};
use super::events::append;
use super::sql::{Conn, json_text, map_unique, parse};
use super::{StoreError, StoreResult, Written, now_millis};
use crate::events::DomainEvent;
use crate::model::Id;
use crate::templates::{TemplateCategory, TemplateContent, TemplateStatus, WhatsAppTemplate};
use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;

/// A WhatsApp template as Meta describes it, to store or refresh.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateRecord {
    pub waba_id: String,
    pub platform_template_id: Option<String>,
    pub name: String,
    pub language: String,
    pub category: TemplateCategory,
    pub status: TemplateStatus,
    pub rejected_reason: Option<String>,
    pub content: TemplateContent,
    pub created_by: Option<Id>,
}

#[async_trait]
pub trait TemplateStore: Send + Sync {
    /// Inserts or refreshes a template (same WABA, name and language); `true` when new.
    async fn upsert_template(
        &self,
        org_id: Id,
        record: TemplateRecord,
    ) -> StoreResult<Written<(WhatsAppTemplate, bool)>>;
    async fn templates(
        &self,
        org_id: Id,
        waba_id: Option<&str>,
        status: Option<TemplateStatus>,
    ) -> StoreResult<Vec<WhatsAppTemplate>>;
    async fn template(&self, org_id: Id, template_id: Id) -> StoreResult<WhatsAppTemplate>;
    /// Applies Meta's review outcome to every copy of the template (webhook and polling).
    async fn set_template_status(
        &self,
        waba_id: &str,
        platform_template_id: &str,
        status: TemplateStatus,
        rejected_reason: Option<&str>,
    ) -> StoreResult<Written<Vec<WhatsAppTemplate>>>;
    async fn delete_template(&self, org_id: Id, template_id: Id) -> StoreResult<Written<()>>;
    /// Templates still waiting for Meta's review, across organizations, for the poller.
    async fn templates_in_review(&self, limit: i64) -> StoreResult<Vec<(Id, WhatsAppTemplate)>>;
}

const TEMPLATE_SELECT: &str = "SELECT t.id, t.organization_id, t.waba_id, t.platform_template_id, t.name, \
    t.language, t.category, t.status, t.rejected_reason, t.content, t.created_at, t.updated_at, \
    (SELECT COUNT(*) FROM template_usage u WHERE u.template_id = t.id) AS usage_count, \
    (SELECT MAX(u.created_at) FROM template_usage u WHERE u.template_id = t.id) AS last_used_at \
    FROM whatsapp_templates t";

/// (organization id, template).
fn template_from_row(row: &AnyRow) -> StoreResult<(Id, WhatsAppTemplate)> {
    let content: String = row.try_get("content")?;
    Ok((
        row.try_get("organization_id")?,
        WhatsAppTemplate {
            id: row.try_get("id")?,
            waba_id: row.try_get("waba_id")?,
            platform_template_id: row.try_get("platform_template_id")?,
            name: row.try_get("name")?,
            language: row.try_get("language")?,
            category: parse(&row.try_get::<String, _>("category")?, "template category")?,
            status: parse(&row.try_get::<String, _>("status")?, "template status")?,
            rejected_reason: row.try_get("rejected_reason")?,
            content: serde_json::from_str(&content).unwrap_or_default(),
            usage_count: row.try_get("usage_count")?,
            last_used_at: row.try_get("last_used_at")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        },
    ))
}

async fn template_in(conn: &mut Conn, template_id: Id) -> StoreResult<(Id, WhatsAppTemplate)> {
    let sql = format!("{TEMPLATE_SELECT} WHERE t.id = $1");
    let row = sqlx::query(&sql).bind(template_id).fetch_optional(&mut *conn).await?;
    template_from_row(&row.ok_or(StoreError::NotFound)?)
}

#[async_trait]
impl<B: Backend> TemplateStore for SqlStore<B> {
    async fn upsert_template(
        &self,
        org_id: Id,
        record: TemplateRecord,
    ) -> StoreResult<Written<(WhatsAppTemplate, bool)>> {
        let now = now_millis();
        let mut tx = self.writer.begin().await?;
        let existing: Option<Id> = sqlx::query_scalar(
            "SELECT id FROM whatsapp_templates WHERE organization_id = $1 AND waba_id = $2 AND name = $3 AND language = $4",
        )
        .bind(org_id)
        .bind(&record.waba_id)
        .bind(&record.name)
        .bind(&record.language)
        .fetch_optional(&mut *tx)
        .await?;
        let content = json_text(&record.content, "{}");
        let (id, created) = match existing {
            Some(id) => {
                sqlx::query(
                    "UPDATE whatsapp_templates SET platform_template_id = COALESCE($1, platform_template_id), \
                     category = $2, status = $3, rejected_reason = $4, content = $5, updated_at = $6 WHERE id = $7",
                )
                .bind(record.platform_template_id.as_deref())
                .bind(record.category.as_str())
                .bind(record.status.as_str())
                .bind(record.rejected_reason.as_deref())
                .bind(&content)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                (id, false)
            }
            None => {
                let id: Id = sqlx::query_scalar(
                    "INSERT INTO whatsapp_templates (organization_id, waba_id, platform_template_id, name, language, \
                     category, status, rejected_reason, content, created_by, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
                )
                .bind(org_id)
                .bind(&record.waba_id)
                .bind(record.platform_template_id.as_deref())
                .bind(&record.name)
                .bind(&record.language)
                .bind(record.category.as_str())
                .bind(record.status.as_str())
                .bind(record.rejected_reason.as_deref())
                .bind(&content)
                .bind(record.created_by)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| map_unique(e, "a template with this name and language already exists"))?;
                (id, true)
            }
        };
        let (_, template) = template_in(&mut tx, id).await?;
        let event = append(&mut tx, org_id, DomainEvent::template(template.clone(), false)).await?;
        tx.commit().await?;
        Ok(Written::one((template, created), event))
    }

    async fn templates(
        &self,
        org_id: Id,
        waba_id: Option<&str>,
        status: Option<TemplateStatus>,
    ) -> StoreResult<Vec<WhatsAppTemplate>> {
        let sql = format!(
            "{TEMPLATE_SELECT} WHERE t.organization_id = $1 AND ($2 IS NULL OR t.waba_id = $2) \
             AND ($3 IS NULL OR t.status = $3) ORDER BY t.name, t.language, t.id"
        );
        let rows = sqlx::query(&sql)
            .bind(org_id)
            .bind(waba_id)
            .bind(status.map(|s| s.as_str()))
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(|r| template_from_row(r).map(|t| t.1)).collect()
    }

    async fn template(&self, org_id: Id, template_id: Id) -> StoreResult<WhatsAppTemplate> {
        let sql = format!("{TEMPLATE_SELECT} WHERE t.organization_id = $1 AND t.id = $2");
        let row = sqlx::query(&sql)
            .bind(org_id)
            .bind(template_id)
            .fetch_optional(&self.reader)
            .await?;
        Ok(template_from_row(&row.ok_or(StoreError::NotFound)?)?.1)
    }

    async fn set_template_status(
        &self,
        waba_id: &str,
        platform_template_id: &str,
        status: TemplateStatus,
        rejected_reason: Option<&str>,
    ) -> StoreResult<Written<Vec<WhatsAppTemplate>>> {
        let mut tx = self.writer.begin().await?;
        let ids: Vec<Id> = sqlx::query_scalar(
            "UPDATE whatsapp_templates SET status = $1, rejected_reason = $2, updated_at = $3 \
             WHERE waba_id = $4 AND platform_template_id = $5 \
             AND (status <> $1 OR COALESCE(rejected_reason, '') <> COALESCE($2, '')) RETURNING id",
        )
        .bind(status.as_str())
        .bind(rejected_reason)
        .bind(now_millis())
        .bind(waba_id)
        .bind(platform_template_id)
        .fetch_all(&mut *tx)
        .await?;
        let mut templates = Vec::new();
        let mut events = Vec::new();
        for id in ids {
            let (org_id, template) = template_in(&mut tx, id).await?;
            events.push(append(&mut tx, org_id, DomainEvent::template(template.clone(), false)).await?);
            templates.push(template);
        }
        tx.commit().await?;
        Ok(Written {
            value: templates,
            events,
        })
    }

    async fn delete_template(&self, org_id: Id, template_id: Id) -> StoreResult<Written<()>> {
        let mut tx = self.writer.begin().await?;
        let (_, template) = template_in(&mut tx, template_id).await?;
        let done = sqlx::query("DELETE FROM whatsapp_templates WHERE id = $1 AND organization_id = $2")
            .bind(template_id)
            .bind(org_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let mut gone = template;
        gone.status = TemplateStatus::Deleted;
        let event = append(&mut tx, org_id, DomainEvent::template(gone, true)).await?;
        tx.commit().await?;
        Ok(Written::one((), event))
    }

    async fn templates_in_review(&self, limit: i64) -> StoreResult<Vec<(Id, WhatsAppTemplate)>> {
        let sql = format!(
            "{TEMPLATE_SELECT} WHERE t.status = 'pending' AND t.platform_template_id IS NOT NULL \
             ORDER BY t.updated_at LIMIT $1"
        );
        let rows = sqlx::query(&sql).bind(limit).fetch_all(&self.reader).await?;
        rows.iter().map(template_from_row).collect()
    }
}

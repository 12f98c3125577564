//! WhatsApp message templates: upsert by name, the platform's review webhooks, lists per
//! organization and account, and the use a template message records when it is queued.

use crate::support::connect; // by name: `app::store::*` has a `connect` too
use crate::support::*;
use app::model::*;
use app::store::*;
use app::templates::{TemplateCategory, TemplateContent, TemplateStatus};

conformance!(templates_upsert_review_and_usage);

fn template_record(name: &str, status: TemplateStatus) -> TemplateRecord {
    TemplateRecord {
        waba_id: "waba-1".into(),
        platform_template_id: Some(format!("tpl-{name}")),
        name: name.into(),
        language: "en_US".into(),
        category: TemplateCategory::Utility,
        status,
        rejected_reason: None,
        content: TemplateContent {
            body: "Hi {{1}}, your order shipped.".into(),
            body_examples: vec!["Ann".into()],
            ..Default::default()
        },
        created_by: None,
    }
}

async fn templates_upsert_review_and_usage(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let (globex, _) = new_org(&store, "globex").await;
    let written = store
        .upsert_template(acme.id, template_record("order_update", TemplateStatus::Pending))
        .await
        .unwrap();
    let (created, is_new) = written.value;
    assert!(is_new);
    assert_eq!(names(&written.events), vec![events::TEMPLATE_UPDATED]);
    assert_eq!((created.status, created.usage_count), (TemplateStatus::Pending, 0));
    let (again, is_new) = store
        .upsert_template(acme.id, template_record("order_update", TemplateStatus::Pending))
        .await
        .unwrap()
        .value;
    assert!(!is_new);
    assert_eq!(again.id, created.id);
    store
        .upsert_template(acme.id, template_record("spring_sale", TemplateStatus::Approved))
        .await
        .unwrap();

    let in_review = store.templates_in_review(10).await.unwrap();
    assert_eq!(
        in_review.iter().map(|(org, t)| (*org, t.id)).collect::<Vec<_>>(),
        vec![(acme.id, created.id)]
    );

    let reviewed = store
        .set_template_status(
            "waba-1",
            "tpl-order_update",
            TemplateStatus::Rejected,
            Some("INVALID_FORMAT"),
        )
        .await
        .unwrap();
    assert_eq!(reviewed.value.len(), 1);
    assert_eq!(reviewed.value[0].rejected_reason.as_deref(), Some("INVALID_FORMAT"));
    assert_eq!(names(&reviewed.events), vec![events::TEMPLATE_UPDATED]);
    assert!(
        store
            .set_template_status(
                "waba-1",
                "tpl-order_update",
                TemplateStatus::Rejected,
                Some("INVALID_FORMAT")
            )
            .await
            .unwrap()
            .events
            .is_empty(),
        "a repeated webhook changes nothing"
    );
    store
        .set_template_status("waba-1", "tpl-order_update", TemplateStatus::Approved, None)
        .await
        .unwrap();

    let approved = store
        .templates(acme.id, Some("waba-1"), Some(TemplateStatus::Approved))
        .await
        .unwrap();
    assert_eq!(
        approved.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        vec!["order_update", "spring_sale"]
    );
    assert!(
        store
            .templates(acme.id, Some("other-waba"), None)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.templates(globex.id, None, None).await.unwrap().is_empty());
    assert_not_found(store.template(globex.id, created.id).await, "another tenant's template");
    assert_not_found(
        store.delete_template(globex.id, created.id).await,
        "delete another tenant's template",
    );

    // Sending a template records one use, in the same transaction as the message.
    let channel = connect(&store, &acme, "wa-501").await;
    let id = receive(&store, &channel, "cust", "wamid.1", "hello", earlier())
        .await
        .value
        .conversation_id;
    let mut with_template = reply(id, &owner, "Hi Ann, your order shipped.", None);
    with_template.kind = MessageKind::Template;
    with_template.template_id = Some(created.id);
    with_template.payload = Some(serde_json::json!({ "template": { "name": "order_update" } }));
    let queued = store.queue_outbound(acme.id, with_template).await.unwrap().value;
    assert_eq!(queued.kind, MessageKind::Template);
    let jobs = store.claim_outbound(10).await.unwrap();
    assert_eq!(jobs[0].payload.as_ref().unwrap()["template"]["name"], "order_update");
    let used = store.template(acme.id, created.id).await.unwrap();
    assert_eq!(used.usage_count, 1);
    assert!(used.last_used_at.is_some());

    let deleted = store.delete_template(acme.id, created.id).await.unwrap();
    assert_eq!(names(&deleted.events), vec![events::TEMPLATE_UPDATED]);
    assert_not_found(store.template(acme.id, created.id).await, "a deleted template");
}

//! Tenancy: no read or write reaches another organization's conversations, contacts, messages,
//! outbox, channels or events.

use crate::support::connect; // by name: `app::store::*` has a `connect` too
use crate::support::*;
use app::model::*;
use app::store::*;

conformance!(tenants_cannot_reach_each_other);

async fn tenants_cannot_reach_each_other(store: DynStore) {
    let (alpha, alpha_owner) = new_org(&store, "alpha").await;
    let (beta, beta_owner) = new_org(&store, "beta").await;
    let channel = connect(&store, &alpha, "page-1").await;
    let id = receive(&store, &channel, "cust", "mid-1", "private", earlier())
        .await
        .value
        .conversation_id;
    let failed = store
        .queue_outbound(alpha.id, reply(id, &alpha_owner, "draft", None))
        .await
        .unwrap()
        .value;
    store.claim_outbound(10).await.unwrap();
    store
        .finish_outbound(failed.id, Err("window closed".into()))
        .await
        .unwrap();
    receive(&store, &channel, "cust", "mid-2", "still there?", now_millis()).await;
    let conversation = store.conversation(alpha.id, id).await.unwrap();
    let alpha_seq = store.latest_seq(alpha.id).await.unwrap();

    assert_not_found(store.conversation(beta.id, id).await, "conversation()");
    assert_not_found(store.contact(beta.id, conversation.contact_id).await, "contact()");
    assert_not_found(store.messages(beta.id, id, None, 50).await, "messages()");
    assert_not_found(
        store
            .set_conversation_status(beta.id, id, ConversationStatus::Resolved, &beta_owner)
            .await,
        "set_conversation_status()",
    );
    assert_not_found(
        store
            .assign_conversation(beta.id, id, Some(beta_owner.id), &beta_owner)
            .await,
        "assign_conversation()",
    );
    assert_not_found(
        store.assign_conversation(beta.id, id, None, &beta_owner).await,
        "unassign",
    );
    assert_not_found(store.mark_read(beta.id, id).await, "mark_read()");
    assert_not_found(
        store
            .queue_outbound(beta.id, reply(id, &beta_owner, "hijack", None))
            .await,
        "queue_outbound()",
    );
    assert_not_found(store.retry_outbound(beta.id, failed.id).await, "retry_outbound()");
    assert_not_found(store.channel(beta.id, channel.id).await, "channel()");
    assert!(store.channels(beta.id).await.unwrap().is_empty());
    assert!(
        store
            .conversations(beta.id, beta_owner.id, &ConversationFilter::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );

    assert!(
        store.events_since(beta.id, 0, 100).await.unwrap().is_empty(),
        "beta never hears about alpha"
    );
    assert_eq!(store.latest_seq(beta.id).await.unwrap(), 0);
    assert_eq!(store.latest_seq(alpha.id).await.unwrap(), alpha_seq);
    assert_eq!(
        store.conversation(alpha.id, id).await.unwrap(),
        conversation,
        "alpha's conversation is untouched"
    );
    let messages = thread(&store, &alpha, id).await;
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[1].status, MessageStatus::Failed);
}

//! Contacts: a profile update (name, avatar) shows in the contact's conversations and cannot be
//! made from another organization.

use crate::support::connect; // by name: `app::store::*` has a `connect` too
use crate::support::*;
use app::model::*;
use app::store::*;

conformance!(contact_profile_updates);

async fn contact_profile_updates(store: DynStore) {
    let (acme, _) = new_org(&store, "acme").await;
    let (rival, _) = new_org(&store, "rival").await;
    let channel = connect(&store, &acme, "page-1").await;
    let first = receive(&store, &channel, "cust", "mid-1", "hello", earlier())
        .await
        .value;
    let contact_id = store
        .conversation(acme.id, first.conversation_id)
        .await
        .unwrap()
        .contact_id;
    let written = store
        .update_contact(
            acme.id,
            contact_id,
            Some("Alice Johnson"),
            Some("https://example.test/a.png"),
        )
        .await
        .unwrap();
    assert_eq!(written.value.name, "Alice Johnson");
    assert_eq!(names(&written.events), vec![events::CONTACT_UPDATED]);
    let conversation = store.conversation(acme.id, first.conversation_id).await.unwrap();
    assert_eq!(conversation.contact_name, "Alice Johnson");
    assert_eq!(
        conversation.contact_avatar_url.as_deref(),
        Some("https://example.test/a.png")
    );
    // Only the name given changes; another organization cannot touch the contact.
    store.update_contact(acme.id, contact_id, None, None).await.unwrap();
    assert_eq!(store.contact(acme.id, contact_id).await.unwrap().name, "Alice Johnson");
    assert!(matches!(
        store.update_contact(rival.id, contact_id, Some("Mallory"), None).await,
        Err(StoreError::NotFound)
    ));
}

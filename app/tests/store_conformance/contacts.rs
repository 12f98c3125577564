//! Contacts: a profile update (name, avatar) shows in the contact's conversations and cannot be
//! made from another organization; a customer who blocks the account is marked unreachable on
//! that channel, and unmarked when they unblock it.

use crate::support::connect; // by name: `app::store::*` has a `connect` too
use crate::support::*;
use app::model::*;
use app::store::*;

conformance!(
    contact_profile_updates,
    a_customer_who_blocks_us_is_marked_on_that_channel_only
);

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

async fn a_customer_who_blocks_us_is_marked_on_that_channel_only(store: DynStore) {
    let (acme, _) = new_org(&store, "acme").await;
    let channel = connect(&store, &acme, "bot-1").await;
    let other = connect(&store, &acme, "bot-2").await;
    let first = receive(&store, &channel, "5550001", "5550001:1", "hello", earlier())
        .await
        .value;
    receive(&store, &other, "5550001", "5550001:1", "hello there", earlier()).await;

    let why = "The customer blocked this bot on Telegram.";
    let marked = store.set_reachability(channel.id, "5550001", Some(why)).await.unwrap();
    assert_eq!(names(&marked.events), vec![events::CONTACT_UPDATED]);
    let identity = |contact: &Contact, channel_id: Id| {
        contact
            .identities
            .iter()
            .find(|i| i.channel_id == channel_id)
            .map(|i| i.unreachable.clone())
    };
    assert_eq!(identity(&marked.value, channel.id), Some(Some(why.to_string())));
    let contact_id = store
        .conversation(acme.id, first.conversation_id)
        .await
        .unwrap()
        .contact_id;
    let read = store.contact(acme.id, contact_id).await.unwrap();
    assert_eq!(read, marked.value, "what is returned is what is read back");

    let again = store.set_reachability(channel.id, "5550001", Some(why)).await.unwrap();
    assert!(again.events.is_empty(), "nothing changed, nothing to tell");
    let unblocked = store.set_reachability(channel.id, "5550001", None).await.unwrap();
    assert_eq!(identity(&unblocked.value, channel.id), Some(None));
    assert_not_found(
        store.set_reachability(channel.id, "never-wrote", Some(why)).await,
        "a customer who never wrote",
    );
    // The other bot's identity is another contact's business, untouched.
    let other_conversation = store
        .conversations(acme.id, 0, &ConversationFilter::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|c| c.channel_id == other.id)
        .unwrap();
    let other_contact = store.contact(acme.id, other_conversation.contact_id).await.unwrap();
    assert_eq!(identity(&other_contact, other.id), Some(None));
}

//! Private notes: kept in their conversation, oldest first, with the organization's people
//! they mention (strangers named are dropped), `note:added` / `note:deleted` in the log, and
//! nothing reachable from another organization.

use crate::support::connect; // by name: `app::store::*` has a `connect` too
use crate::support::*;
use app::model::*;
use app::store::*;

conformance!(notes_keep_their_mentions_and_their_organization);

async fn notes_keep_their_mentions_and_their_organization(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let (rival, stranger) = new_org(&store, "rival").await;
    let lea = store
        .add_user(acme.id, "Lea", "lea@acme.test", "hash", Role::Agent)
        .await
        .unwrap();
    let channel = connect(&store, &acme, "page-1").await;
    let conversation = receive(&store, &channel, "cust", "mid-1", "hello", earlier())
        .await
        .value
        .conversation_id;

    let written = store
        .add_note(
            acme.id,
            conversation,
            owner.id,
            "@Lea can you check the refund?",
            &[lea.id, lea.id, stranger.id],
        )
        .await
        .unwrap();
    let note = written.value;
    assert_eq!(
        note.mentions,
        vec![lea.id],
        "once each, and only the organization's people"
    );
    assert_eq!(note.author_name, owner.name);
    assert_eq!(names(&written.events), vec![events::NOTE_ADDED]);
    assert_eq!(written.events[0].payload["mentionedUsers"], serde_json::json!([lea.id]));
    assert_eq!(
        written.events[0].payload["note"]["body"],
        "@Lea can you check the refund?"
    );

    let second = store
        .add_note(acme.id, conversation, lea.id, "Done.", &[])
        .await
        .unwrap()
        .value;
    assert_eq!(
        store.notes(acme.id, conversation).await.unwrap(),
        vec![note.clone(), second.clone()],
        "oldest first, as written"
    );

    assert_not_found(
        store.add_note(rival.id, conversation, stranger.id, "sneaky", &[]).await,
        "another organization's conversation",
    );
    assert!(store.notes(rival.id, conversation).await.unwrap().is_empty());
    assert_not_found(store.note(rival.id, note.id).await, "another organization's note");
    assert_not_found(
        store.delete_note(rival.id, note.id).await,
        "another organization's note",
    );

    let deleted = store.delete_note(acme.id, note.id).await.unwrap();
    assert_eq!(names(&deleted.events), vec![events::NOTE_DELETED]);
    assert_eq!(deleted.events[0].payload["noteId"], note.id);
    assert_eq!(store.notes(acme.id, conversation).await.unwrap(), vec![second]);
    assert_not_found(store.delete_note(acme.id, note.id).await, "already deleted");
}

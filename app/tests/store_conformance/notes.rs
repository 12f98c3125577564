//! Private notes: kept in their conversation, oldest first, with the organization's people
//! they mention (strangers named are dropped), `note:added` / `note:deleted` in the log, and
//! nothing reachable from another organization.

use crate::support::connect; // by name: `app::store::*` has a `connect` too
use crate::support::*;
use app::model::*;
use app::store::*;

conformance!(
    notes_keep_their_mentions_and_their_organization,
    a_mention_stays_unread_until_its_person_reads_it
);

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

async fn a_mention_stays_unread_until_its_person_reads_it(store: DynStore) {
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
    let first = store
        .add_note(acme.id, conversation, owner.id, "@Lea first", &[lea.id])
        .await
        .unwrap()
        .value;
    // Later activity in the conversation (more notes, more messages) hides nothing.
    let second = store
        .add_note(acme.id, conversation, owner.id, "@Lea second", &[lea.id])
        .await
        .unwrap()
        .value;
    receive(&store, &channel, "cust", "mid-2", "anyone?", earlier()).await;
    store
        .add_note(acme.id, conversation, lea.id, "not a mention", &[])
        .await
        .unwrap();

    let unread = store.mentions(acme.id, lea.id, true).await.unwrap();
    assert_eq!(
        unread.iter().map(|m| m.note.id).collect::<Vec<_>>(),
        vec![second.id, first.id],
        "newest first"
    );
    assert!(unread.iter().all(|m| m.read_at.is_none() && !m.contact_name.is_empty()));
    assert!(store.mentions(acme.id, owner.id, false).await.unwrap().is_empty());

    let read = store.read_mention(acme.id, lea.id, first.id).await.unwrap();
    let at = read.read_at.expect("read");
    let again = store.read_mention(acme.id, lea.id, first.id).await.unwrap();
    assert_eq!(again.read_at, Some(at), "the first read is kept");
    assert_eq!(store.mentions(acme.id, lea.id, true).await.unwrap().len(), 1);
    assert_eq!(store.mentions(acme.id, lea.id, false).await.unwrap().len(), 2);

    assert_not_found(
        store.read_mention(acme.id, owner.id, first.id).await,
        "someone else's mention",
    );
    assert_not_found(
        store.read_mention(rival.id, stranger.id, first.id).await,
        "another organization",
    );
    store.delete_note(acme.id, second.id).await.unwrap();
    assert!(
        store.mentions(acme.id, lea.id, true).await.unwrap().is_empty(),
        "a deleted note's mention goes"
    );
}

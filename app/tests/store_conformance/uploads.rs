//! Uploads: a recorded file belongs to one organization and conversation, its id is unique, and a
//! reply carries it as an attachment.

use crate::support::connect; // by name: `app::store::*` has a `connect` too
use crate::support::*;
use app::model::*;
use app::store::*;

conformance!(uploads_belong_to_one_organization);

fn new_upload(id: &str, conversation_id: Id, by: &User) -> NewUpload {
    NewUpload {
        id: id.to_string(),
        conversation_id,
        uploaded_by: by.id,
        name: "receipt.png".to_string(),
        mime_type: "image/png".to_string(),
        kind: AttachmentKind::Image,
        size: 5_000_000_000,
        sha256: "ab".repeat(32),
    }
}

async fn uploads_belong_to_one_organization(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let (globex, intruder) = new_org(&store, "globex").await;
    let channel = connect(&store, &acme, "page-1").await;
    let conversation_id = receive(&store, &channel, "cust", "mid-1", "hello", earlier())
        .await
        .value
        .conversation_id;

    let recorded = store
        .record_upload(acme.id, new_upload("f00d", conversation_id, &owner))
        .await
        .unwrap();
    assert_eq!(
        recorded.file,
        app::attachments::UploadedFile {
            id: "f00d".into(),
            kind: AttachmentKind::Image,
            url: "/api/media/uploads/f00d".into(),
            name: "receipt.png".into(),
            mime_type: "image/png".into(),
            size: 5_000_000_000,
        },
        "sizes past 4 GiB survive"
    );
    assert_eq!(
        (recorded.organization_id, recorded.conversation_id),
        (acme.id, conversation_id)
    );
    assert_eq!(store.upload(acme.id, "f00d").await.unwrap(), recorded);

    assert_not_found(store.upload(globex.id, "f00d").await, "another organization's upload");
    assert_not_found(
        store
            .record_upload(globex.id, new_upload("beef", conversation_id, &intruder))
            .await,
        "uploading into another organization's conversation",
    );
    assert_not_found(store.upload(acme.id, "beef").await, "a refused upload leaves no row");
    assert_conflict(
        store
            .record_upload(acme.id, new_upload("f00d", conversation_id, &owner))
            .await,
        "a reused upload id",
    );

    // A reply carrying the upload keeps it as its attachment.
    let mut with_file = reply(conversation_id, &owner, "", None);
    with_file.attachments = vec![recorded.file.attachment()];
    with_file.kind = MessageKind::Media;
    let queued = store.queue_outbound(acme.id, with_file).await.unwrap().value;
    assert_eq!(queued.attachments, vec![recorded.file.attachment()]);
    assert_eq!(
        message(&store, &acme, conversation_id, queued.id).await.attachments[0].url,
        "/api/media/uploads/f00d"
    );
}

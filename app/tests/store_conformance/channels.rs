//! Channels: one organization at a time holds a platform account, reconnecting keeps the channel
//! and its history, a disconnected channel stays listed, and every status change is an event.

use crate::support::connect; // by name: `app::store::*` has a `connect` too
use crate::support::*;
use app::model::*;
use app::store::*;

conformance!(
    channel_ownership,
    channel_status_changes_emit_events,
    webhook_keys_route_to_live_channels
);

async fn channel_ownership(store: DynStore) {
    let (alpha, _) = new_org(&store, "alpha").await;
    let (beta, _) = new_org(&store, "beta").await;

    let first = store.connect_channel(alpha.id, new_channel("page-1")).await.unwrap();
    assert_eq!(first.value.status, ChannelStatus::Active);
    assert_eq!(names(&first.events), vec![events::CHANNEL_STATUS]);
    let channel = first.value;

    store
        .set_channel_status(channel.id, ChannelStatus::NeedsReconnect, Some("token expired"))
        .await
        .unwrap();
    let mut renamed = new_channel("page-1");
    renamed.name = "Renamed page".into();
    let again = store.connect_channel(alpha.id, renamed).await.unwrap().value;
    assert_eq!(
        again.id, channel.id,
        "reconnecting keeps the channel, and with it the history"
    );
    assert_eq!(
        (again.status, again.last_error.as_deref(), again.name.as_str()),
        (ChannelStatus::Active, None, "Renamed page")
    );
    assert_eq!(store.channels(alpha.id).await.unwrap().len(), 1);

    assert_conflict(
        store.connect_channel(beta.id, new_channel("page-1")).await,
        "another org takes a live account",
    );
    assert!(store.channels(beta.id).await.unwrap().is_empty());

    let live = store
        .channel_by_account(DEMO, "page-1")
        .await
        .unwrap()
        .expect("live channel");
    assert_eq!(
        (live.organization_id, live.channel.id, live.credentials.as_str()),
        (alpha.id, channel.id, "sealed-token")
    );
    assert!(
        store
            .channel_by_account(ChannelKind::Messenger, "page-1")
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.channel_by_account(DEMO, "page-2").await.unwrap().is_none());

    store
        .set_channel_status(channel.id, ChannelStatus::Disconnected, None)
        .await
        .unwrap();
    assert!(
        store.channel_by_account(DEMO, "page-1").await.unwrap().is_none(),
        "disconnected channels receive nothing"
    );

    let taken = connect(&store, &beta, "page-1").await;
    assert_ne!(taken.id, channel.id);
    let live = store
        .channel_by_account(DEMO, "page-1")
        .await
        .unwrap()
        .expect("live channel");
    assert_eq!((live.organization_id, live.channel.id), (beta.id, taken.id));
    assert_conflict(
        store.connect_channel(alpha.id, new_channel("page-1")).await,
        "reclaim while another org has it",
    );

    assert_conflict(
        store.set_channel_status(channel.id, ChannelStatus::Active, None).await,
        "reactivating a channel whose account another org now has",
    );

    let page_0 = connect(&store, &alpha, "page-0").await;
    let alpha_channels = store.channels(alpha.id).await.unwrap();
    assert_eq!(
        alpha_channels.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![page_0.id, channel.id],
        "live channels first"
    );
    assert_eq!(
        alpha_channels[1].status,
        ChannelStatus::Disconnected,
        "a disconnected channel stays listed with its history"
    );
    assert_eq!(
        store.channel(alpha.id, channel.id).await.unwrap().channel.status,
        ChannelStatus::Disconnected
    );
}

async fn channel_status_changes_emit_events(store: DynStore) {
    let (acme, _) = new_org(&store, "acme").await;
    let channel = connect(&store, &acme, "page-1").await;
    let before = store.latest_seq(acme.id).await.unwrap();

    let written = store
        .set_channel_status(channel.id, ChannelStatus::NeedsReconnect, Some("token expired"))
        .await
        .unwrap();
    assert_eq!(written.value.status, ChannelStatus::NeedsReconnect);
    assert_eq!(written.value.last_error.as_deref(), Some("token expired"));
    assert_eq!(names(&written.events), vec![events::CHANNEL_STATUS]);
    let event = &written.events[0];
    assert_eq!((event.organization_id, event.seq), (acme.id, before + 1));
    assert_eq!(event.payload["channelId"], channel.id);
    assert_eq!(event.payload["status"], "needs_reconnect");
    assert_eq!(store.events_since(acme.id, before, 10).await.unwrap(), written.events);

    let record = store.channel(acme.id, channel.id).await.unwrap();
    assert_eq!(record.channel, written.value);
    assert_not_found(
        store
            .set_channel_status(channel.id + 1000, ChannelStatus::Active, None)
            .await,
        "unknown channel",
    );
}

async fn webhook_keys_route_to_live_channels(store: DynStore) {
    let (alpha, _) = new_org(&store, "alpha").await;
    let (beta, _) = new_org(&store, "beta").await;
    let one = connect(&store, &alpha, "page-1").await;
    let two = connect(&store, &beta, "page-2").await;
    let one = store.channel(alpha.id, one.id).await.unwrap();
    let two = store.channel(beta.id, two.id).await.unwrap();
    assert_eq!(one.webhook_key.len(), 32, "128 random bits, hex");
    assert_ne!(one.webhook_key, two.webhook_key);

    let kind = one.channel.kind;
    let found = store.channel_by_webhook_key(kind, &one.webhook_key).await.unwrap();
    assert_eq!(
        found.map(|c| (c.organization_id, c.channel.id)),
        Some((alpha.id, one.channel.id))
    );
    let other_kind = ChannelKind::ALL.iter().copied().find(|k| *k != kind).unwrap();
    assert!(
        store
            .channel_by_webhook_key(other_kind, &one.webhook_key)
            .await
            .unwrap()
            .is_none(),
        "a key routes only within its platform"
    );
    assert!(store.channel_by_webhook_key(kind, "nope").await.unwrap().is_none());

    let live = store.live_channels(&[kind]).await.unwrap();
    assert_eq!(
        live.iter().map(|c| c.channel.id).collect::<Vec<_>>(),
        [one.channel.id, two.channel.id]
    );

    store
        .set_channel_status(one.channel.id, ChannelStatus::Disconnected, None)
        .await
        .unwrap();
    assert!(
        store
            .channel_by_webhook_key(kind, &one.webhook_key)
            .await
            .unwrap()
            .is_none(),
        "a disconnected channel takes no deliveries"
    );
    assert_eq!(store.live_channels(&[kind]).await.unwrap().len(), 1);
    let mut again = new_channel("page-1");
    again.name = "Back".into();
    store.connect_channel(alpha.id, again).await.unwrap();
    let back = store.channel(alpha.id, one.channel.id).await.unwrap();
    assert_eq!(
        back.webhook_key, one.webhook_key,
        "reconnecting keeps the route the platform knows"
    );
}

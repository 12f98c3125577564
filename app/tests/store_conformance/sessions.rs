//! Login sessions: a session finds its user until it expires or is deleted (logout), and ending
//! one session leaves the others.

use crate::support::*;
use app::model::*;
use app::store::*;

conformance!(sessions_expire_and_end);

async fn sessions_expire_and_end(store: DynStore) {
    let (_, owner) = new_org(&store, "acme").await;
    let now = now_millis();
    store.create_session("token-a", owner.id, now + HOUR_MS).await.unwrap();
    store.create_session("token-b", owner.id, now + HOUR_MS).await.unwrap();

    assert_eq!(store.session_user("token-a", now).await.unwrap(), Some(owner.clone()));
    assert_eq!(
        store.session_user("token-a", now + HOUR_MS).await.unwrap(),
        None,
        "a session ends at its expiry"
    );
    assert_eq!(store.session_user("token-a", now + HOUR_MS + 1).await.unwrap(), None);
    assert_eq!(store.session_user("unknown", now).await.unwrap(), None);

    store.delete_session("token-a").await.unwrap();
    assert_eq!(
        store.session_user("token-a", now).await.unwrap(),
        None,
        "logout ends the session"
    );
    assert_eq!(
        store.session_user("token-b", now).await.unwrap(),
        Some(owner),
        "other sessions survive a logout"
    );
    store.delete_session("token-a").await.unwrap();
}

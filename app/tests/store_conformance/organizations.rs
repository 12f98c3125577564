//! Organizations and their people: signup creates an organization with its owner, an email
//! belongs to one user whatever its case, and an invite adds one member once, before it expires.

use crate::support::*;
use app::model::*;
use app::store::*;

conformance!(organizations_and_users, invites_are_single_use);

async fn organizations_and_users(store: DynStore) {
    let (acme, ana) = store
        .create_organization("Acme", "Ana", "  Ana@Example.COM ", "ana-hash")
        .await
        .unwrap();
    assert_eq!(ana.email, "ana@example.com");
    assert_eq!(ana.role, Role::Owner);
    assert_eq!(ana.organization_id, acme.id);
    assert_eq!(store.organization(acme.id).await.unwrap(), acme);
    assert_not_found(store.organization(acme.id + 1000).await, "unknown organization");

    let creds = store
        .credentials_by_email("ANA@example.com")
        .await
        .unwrap()
        .expect("email lookup ignores case");
    assert_eq!(creds.user, ana);
    assert_eq!(creds.password_hash, "ana-hash");
    assert!(store.credentials_by_email(" ana@example.com").await.unwrap().is_some());
    assert!(
        store
            .credentials_by_email("nobody@example.com")
            .await
            .unwrap()
            .is_none()
    );

    assert_conflict(
        store
            .create_organization("Copycat", "Eve", "ana@EXAMPLE.com", "x")
            .await,
        "signup with a taken email",
    );
    assert_conflict(
        store
            .add_user(acme.id, "Ana Two", "ANA@example.com", "x", Role::Agent)
            .await,
        "add_user with a taken email",
    );

    let carl = store
        .add_user(acme.id, "Carl", "Carl@Example.com", "carl-hash", Role::Agent)
        .await
        .unwrap();
    assert_eq!(
        (carl.role, carl.organization_id, carl.email.as_str()),
        (Role::Agent, acme.id, "carl@example.com")
    );
    assert_eq!(
        store
            .credentials_by_email("carl@example.com")
            .await
            .unwrap()
            .unwrap()
            .user,
        carl
    );

    let (beta, bo) = store
        .create_organization("Beta", "Bo", "bo@beta.test", "bo-hash")
        .await
        .unwrap();
    assert_ne!(beta.id, acme.id);
    assert_eq!(store.users(acme.id).await.unwrap(), vec![ana, carl]);
    assert_eq!(store.users(beta.id).await.unwrap(), vec![bo]);
}

async fn invites_are_single_use(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let now = now_millis();
    assert_invalid(
        store
            .create_invite(acme.id, "owner-invite", Role::Owner, owner.id, now + DAY_MS)
            .await,
        "an owner invite",
    );

    store
        .create_invite(acme.id, "invite-1", Role::Admin, owner.id, now + DAY_MS)
        .await
        .unwrap();
    // A taken email must not use up the invite.
    assert_conflict(
        store.accept_invite("invite-1", "Ann", &owner.email, "h", now).await,
        "accept with a taken email",
    );

    let admin = store
        .accept_invite("invite-1", "Ann", "Ann@Acme.test", "h", now)
        .await
        .unwrap();
    assert_eq!(
        (admin.organization_id, admin.role, admin.email.as_str()),
        (acme.id, Role::Admin, "ann@acme.test")
    );
    assert!(store.users(acme.id).await.unwrap().contains(&admin));
    assert_eq!(
        store.credentials_by_email("ann@acme.test").await.unwrap().unwrap().user,
        admin
    );

    assert_not_found(
        store
            .accept_invite("invite-1", "Ann Again", "ann2@acme.test", "h", now)
            .await,
        "second use",
    );
    assert!(store.credentials_by_email("ann2@acme.test").await.unwrap().is_none());

    store
        .create_invite(acme.id, "invite-2", Role::Agent, owner.id, now + 1000)
        .await
        .unwrap();
    assert_not_found(
        store
            .accept_invite("invite-2", "Late", "late@acme.test", "h", now + 1000)
            .await,
        "expired invite",
    );
    assert_not_found(
        store
            .accept_invite("no-such-invite", "X", "x@acme.test", "h", now)
            .await,
        "unknown invite",
    );
    assert_eq!(store.users(acme.id).await.unwrap().len(), 2);
}

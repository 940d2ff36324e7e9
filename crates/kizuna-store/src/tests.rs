//! Store tests; each runs on SQLite and on PostgreSQL (see [`crate::store_test!`]).

use chrono::{Duration, SubsecRound};
use uuid::Uuid;

use crate::{
    epoch, now,
    session::{Revocation, RevocationKind},
    store_test,
    user_device::LinkDevice,
    users::{AccountUpdate, IdColumn, NewUser},
    Store, StoreError,
};

fn new_user(username: &str) -> NewUser {
    NewUser { id: Uuid::new_v4(), username: username.to_owned(), create_time: now(), ..Default::default() }
}

async fn create_with_device(store: &Store, username: &str, device: &str) -> Uuid {
    let mut u = new_user(username);
    u.device_id = Some(device.to_owned());
    store.create_user(&u).await.unwrap();
    u.id
}

store_test!(created_user_reads_back_with_nakama_defaults, |store| {
    let mut u = new_user("alice");
    u.custom_id = Some("custom-1".into());
    store.create_user(&u).await.unwrap();
    let row = store.account_by_id(u.id).await.unwrap().map(|a| a.0).expect("row exists");
    assert_eq!(row.username, "alice");
    assert_eq!(row.lang_tag, "en");
    assert_eq!(row.metadata.get(), "{}");
    assert_eq!(row.wallet.get(), "{}");
    assert_eq!(row.edge_count, 0);
    assert_eq!(row.custom_id.as_deref(), Some("custom-1"));
    assert_eq!(row.create_time, u.create_time);
    assert_eq!(row.verify_time, epoch());
    assert_eq!(row.disable_time, epoch());
});

store_test!(duplicate_username_is_a_unique_violation_on_username, |store| {
    store.create_user(&new_user("taken")).await.unwrap();
    let err = store.create_user(&new_user("taken")).await.unwrap_err();
    assert!(err.is_unique_on("users", "username"), "{err:?}");
    assert!(!err.is_unique_on("user_device", "id"));
});

store_test!(duplicate_device_rolls_back_the_whole_account, |store| {
    create_with_device(&store, "first", "device-aaaaaaaaaa").await;
    let mut second = new_user("second");
    second.device_id = Some("device-aaaaaaaaaa".into());
    let err = store.create_user(&second).await.unwrap_err();
    assert!(err.is_unique_on("user_device", "id"), "{err:?}");
    // No half-created account is left behind.
    assert!(store.account_by_id(second.id).await.unwrap().map(|a| a.0).is_none());
    assert!(store.auth_by_username("second").await.unwrap().is_none());
});

store_test!(auth_lookups_find_by_device_column_username_and_id, |store| {
    let id = create_with_device(&store, "dev", "device-bbbbbbbbbb").await;
    let mut e = new_user("mail");
    e.email = Some("a@example.com".into());
    e.password = Some(b"hash".to_vec());
    store.create_user(&e).await.unwrap();
    assert_eq!(store.auth_by_device("device-bbbbbbbbbb").await.unwrap().unwrap().id, id);
    assert!(store.auth_by_device("device-missing00").await.unwrap().is_none());
    let by_email = store.auth_by_column(IdColumn::Email, "a@example.com").await.unwrap().unwrap();
    assert_eq!(by_email.id, e.id);
    assert_eq!(by_email.password.as_deref(), Some(&b"hash"[..]));
    assert_eq!(store.auth_by_username("mail").await.unwrap().unwrap().id, e.id);
    assert_eq!(store.auth_by_id(id).await.unwrap().unwrap().username, "dev");
});

store_test!(over_long_username_is_rejected_by_the_schema, |store| {
    let err = store.create_user(&new_user(&"x".repeat(129))).await.unwrap_err();
    assert!(matches!(err, StoreError::Check(_)), "{err:?}");
    store.create_user(&new_user(&"y".repeat(128))).await.unwrap();
});

store_test!(update_account_changes_only_when_a_value_differs, |store| {
    let u = new_user("upd");
    store.create_user(&u).await.unwrap();
    let later = now() + Duration::seconds(5);
    let set = AccountUpdate { display_name: Some(Some("Disp".into())), location: Some(Some("here".into())), ..Default::default() };
    assert!(store.update_account(u.id, &set, later).await.unwrap());
    let row = store.account_by_id(u.id).await.unwrap().map(|a| a.0).unwrap();
    assert_eq!(row.display_name.as_deref(), Some("Disp"));
    assert_eq!(row.update_time, later.trunc_subsecs(6));
    // Same values again: no change, update_time untouched.
    assert!(!store.update_account(u.id, &set, later + Duration::seconds(5)).await.unwrap());
    assert_eq!(store.account_by_id(u.id).await.unwrap().map(|a| a.0).unwrap().update_time, later.trunc_subsecs(6));
    // Some(None) clears.
    let clear = AccountUpdate { location: Some(None), ..Default::default() };
    assert!(store.update_account(u.id, &clear, later).await.unwrap());
    assert_eq!(store.account_by_id(u.id).await.unwrap().map(|a| a.0).unwrap().location, None);
});

store_test!(update_to_a_taken_username_is_a_unique_violation, |store| {
    store.create_user(&new_user("one")).await.unwrap();
    let two = new_user("two");
    store.create_user(&two).await.unwrap();
    let update = AccountUpdate { username: Some("one".into()), ..Default::default() };
    let err = store.update_account(two.id, &update, now()).await.unwrap_err();
    assert!(err.is_unique_on("users", "username"), "{err:?}");
});

store_test!(link_column_refuses_values_held_by_another_account, |store| {
    let a = new_user("a");
    let b = new_user("b");
    store.create_user(&a).await.unwrap();
    store.create_user(&b).await.unwrap();
    assert!(store.link_column(a.id, IdColumn::Custom, "shared-id", None, now()).await.unwrap());
    // Relinking your own value is fine; another account cannot take it.
    assert!(store.link_column(a.id, IdColumn::Custom, "shared-id", None, now()).await.unwrap());
    assert!(!store.link_column(b.id, IdColumn::Custom, "shared-id", None, now()).await.unwrap());
    assert!(store.link_column(b.id, IdColumn::Email, "b@example.com", Some(b"pw"), now()).await.unwrap());
    let auth = store.auth_by_column(IdColumn::Email, "b@example.com").await.unwrap().unwrap();
    assert_eq!(auth.password.as_deref(), Some(&b"pw"[..]));
});

store_test!(unlink_never_removes_the_last_identifier, |store| {
    let id = create_with_device(&store, "u", "device-cccccccccc").await;
    // Only a device: it cannot go.
    assert!(!store.unlink_device(id, "device-cccccccccc", now()).await.unwrap());
    assert!(store.link_column(id, IdColumn::Custom, "custom-xyz", None, now()).await.unwrap());
    // Wrong value: nothing happens.
    assert!(!store.unlink_column(id, IdColumn::Custom, "custom-other", now()).await.unwrap());
    // Now the device can go, leaving the custom id...
    assert!(store.unlink_device(id, "device-cccccccccc", now()).await.unwrap());
    // ...which is then the last one.
    assert!(!store.unlink_column(id, IdColumn::Custom, "", now()).await.unwrap());
    assert!(store.link_column(id, IdColumn::Email, "u@example.com", Some(b"pw"), now()).await.unwrap());
    assert!(store.unlink_column(id, IdColumn::Custom, "", now()).await.unwrap());
    // Unlinking email clears the password too — but email is now last, so it stays.
    assert!(!store.unlink_column(id, IdColumn::Email, "", now()).await.unwrap());
    assert_eq!(store.account_by_id(id).await.unwrap().map(|a| a.0).unwrap().custom_id, None);
});

store_test!(device_link_reports_owner_conflicts, |store| {
    let a = create_with_device(&store, "a", "device-dddddddddd").await;
    let b = create_with_device(&store, "b", "device-eeeeeeeeee").await;
    assert_eq!(store.link_device(a, "device-ffffffffff", now()).await.unwrap(), LinkDevice::Linked);
    assert_eq!(store.link_device(a, "device-ffffffffff", now()).await.unwrap(), LinkDevice::Linked);
    assert_eq!(store.link_device(b, "device-ffffffffff", now()).await.unwrap(), LinkDevice::OwnedByOther);
    assert_eq!(store.account_by_id(a).await.unwrap().unwrap().1, vec!["device-dddddddddd", "device-ffffffffff"]);
});

fn deleted_mark(user_id: Uuid, expire_in: Duration) -> Revocation {
    let t = now().trunc_subsecs(0);
    Revocation { user_id, kind: RevocationKind::AccountDeleted, token_id: String::new(), create_time: t, expire_time: t + expire_in }
}

store_test!(delete_user_cascades_devices_and_is_idempotent, |store| {
    let id = create_with_device(&store, "gone", "device-gggggggggg").await;
    let mark = deleted_mark(id, Duration::hours(1));
    assert!(store.delete_user(id, now(), std::slice::from_ref(&mark)).await.unwrap().0);
    assert!(store.account_by_id(id).await.unwrap().map(|a| a.0).is_none());
    assert!(store.auth_by_device("device-gggggggggg").await.unwrap().is_none());
    assert!(!store.delete_user(id, now(), std::slice::from_ref(&mark)).await.unwrap().0);
    // The deletion mark was stored with the deletion.
    assert_eq!(store.session_revocations(now()).await.unwrap(), vec![mark]);
});

store_test!(session_revocations_are_kept_until_they_expire, |store| {
    let user = Uuid::new_v4();
    let t = now().trunc_subsecs(0);
    let token = Revocation {
        user_id: user,
        kind: RevocationKind::SessionToken,
        token_id: "tid-1".into(),
        create_time: t,
        expire_time: t + Duration::seconds(60),
    };
    let all = Revocation { kind: RevocationKind::AllBefore, token_id: String::new(), expire_time: t + Duration::hours(1), ..token.clone() };
    store.session_revoke(&[token.clone(), all.clone()]).await.unwrap();
    // A later mark of the same kind replaces the earlier one.
    let later = Revocation { create_time: t + Duration::seconds(5), ..all.clone() };
    store.session_revoke(std::slice::from_ref(&later)).await.unwrap();
    let mut live = store.session_revocations(t).await.unwrap();
    live.sort_by_key(|r| r.kind as i16);
    assert_eq!(live, vec![token.clone(), later.clone()]);
    // Past the token's expiry only the account-wide mark is left, and the sweep removes the rest.
    assert_eq!(store.session_revocations(t + Duration::seconds(60)).await.unwrap(), vec![later.clone()]);
    assert_eq!(store.session_revocations_sweep(t + Duration::seconds(60)).await.unwrap(), 1);
    assert_eq!(store.session_revocations_sweep(t + Duration::hours(2)).await.unwrap(), 1);
    assert!(store.session_revocations(t).await.unwrap().is_empty());
});

store_test!(users_by_any_combines_filters_and_skips_unknowns_and_system_user, |store| {
    let a = new_user("ua");
    let b = new_user("ub");
    store.create_user(&a).await.unwrap();
    store.create_user(&b).await.unwrap();
    let rows = store
        .users_by_any(&[a.id, Uuid::new_v4(), Uuid::nil()], &["ub".into(), "nobody".into()], &["fb-none".into()])
        .await
        .unwrap();
    let mut names: Vec<_> = rows.iter().map(|r| r.username.as_str()).collect();
    names.sort();
    assert_eq!(names, vec!["ua", "ub"]);
    assert!(store.users_by_any(&[], &[], &[]).await.unwrap().is_empty());
});

store_test!(migrations_report_applied_and_rerun_cleanly, |store| {
    store.migrate_up().await.unwrap();
    let status = store.migration_status().await.unwrap();
    assert!(!status.is_empty());
    assert!(status.iter().all(|(_, _, applied)| *applied));
});

store_test!(account_by_id_reads_the_user_and_its_devices_at_once, |store| {
    let none = new_user("nodevice");
    store.create_user(&none).await.unwrap();
    let (row, devices) = store.account_by_id(none.id).await.unwrap().expect("exists");
    assert_eq!((row.username.as_str(), devices.len()), ("nodevice", 0));
    let two = create_with_device(&store, "twodevices", "device-zzzzzzzzzz").await;
    store.link_device(two, "device-aaaaaaaaaa", now()).await.unwrap();
    let (row, devices) = store.account_by_id(two).await.unwrap().expect("exists");
    assert_eq!(row.id, two);
    assert_eq!(devices, vec!["device-aaaaaaaaaa", "device-zzzzzzzzzz"]);
    assert!(store.account_by_id(Uuid::new_v4()).await.unwrap().is_none());
});

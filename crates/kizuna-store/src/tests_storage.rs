//! Storage, wallet and multi-update tests; each runs on SQLite and on PostgreSQL.

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::{
    multi::{MultiReject, MultiUpdate},
    now, store_test,
    storage::{ListPosition, ListScope, StorageDelete, StorageReject, StorageWrite},
    users::{AccountUpdate, NewUser},
    wallet::{WalletChange, WalletReject},
    Store,
};

async fn user(store: &Store, name: &str) -> Uuid {
    let u = NewUser { id: Uuid::new_v4(), username: name.into(), create_time: now(), ..Default::default() };
    store.create_user(&u).await.unwrap();
    u.id
}

fn w(owner: Uuid, key: &str, value: &str, condition: &str) -> StorageWrite {
    StorageWrite {
        collection: "c".into(),
        key: key.into(),
        user_id: owner,
        value: value.into(),
        new_version: format!("v-{value}"),
        condition: condition.into(),
        read: 1,
        write: 1,
    }
}

store_test!(storage_conditional_writes_follow_nakama, |store| {
    let a = user(&store, "a").await;
    let acks = store.storage_write(&[w(a, "k", r#"{"n":1}"#, "*")], false, now()).await.unwrap().unwrap();
    assert_eq!(acks[0].version, r#"v-{"n":1}"#);
    // `*` on an existing object: version check fails.
    assert_eq!(store.storage_write(&[w(a, "k", r#"{"n":2}"#, "*")], false, now()).await.unwrap(), Err(StorageReject::Version));
    // Stale if-match fails, current one succeeds.
    assert_eq!(store.storage_write(&[w(a, "k", r#"{"n":2}"#, "stale")], false, now()).await.unwrap(), Err(StorageReject::Version));
    let acks = store.storage_write(&[w(a, "k", r#"{"n":2}"#, r#"v-{"n":1}"#)], false, now()).await.unwrap().unwrap();
    assert_eq!(acks[0].version, r#"v-{"n":2}"#);
    // If-match on a missing object fails.
    assert_eq!(store.storage_write(&[w(a, "missing", "{}", "v-x")], false, now()).await.unwrap(), Err(StorageReject::Version));
    // Unconditional write of identical content keeps update_time.
    let first = store.storage_write(&[w(a, "same", "{}", "")], false, now()).await.unwrap().unwrap();
    let again = store.storage_write(&[w(a, "same", "{}", "")], false, now() + chrono::Duration::seconds(3)).await.unwrap().unwrap();
    assert_eq!(first[0].update_time, again[0].update_time);
});

store_test!(storage_batch_is_all_or_nothing_and_acks_keep_request_order, |store| {
    let a = user(&store, "a").await;
    store.storage_write(&[w(a, "exists", "{}", "")], false, now()).await.unwrap().unwrap();
    let batch = [w(a, "z-new", "{}", ""), w(a, "exists", "{}", "*")];
    assert_eq!(store.storage_write(&batch, false, now()).await.unwrap(), Err(StorageReject::Version));
    assert!(store.storage_read(&[("c".into(), "z-new".into(), a)], None).await.unwrap().is_empty());
    let acks = store.storage_write(&[w(a, "zz", "{}", ""), w(a, "aa", "{}", "")], false, now()).await.unwrap().unwrap();
    assert_eq!(acks.iter().map(|a| a.key.as_str()).collect::<Vec<_>>(), ["zz", "aa"]);
});

store_test!(storage_permissions_for_clients_and_server, |store| {
    let a = user(&store, "a").await;
    let b = user(&store, "b").await;
    let mut locked = w(a, "locked", "{}", "");
    locked.write = 0;
    locked.read = 0;
    store.storage_write(&[locked.clone()], true, now()).await.unwrap().unwrap();
    // A client cannot overwrite or delete a write=0 object; the server can.
    assert_eq!(store.storage_write(&[w(a, "locked", r#"{"x":1}"#, "")], false, now()).await.unwrap(), Err(StorageReject::Permission));
    let del = StorageDelete { collection: "c".into(), key: "locked".into(), user_id: a, version: String::new() };
    assert_eq!(store.storage_delete(std::slice::from_ref(&del), false).await.unwrap(), Err(StorageReject::Delete));
    // read=0: not even the owner reads it; the server does.
    let id = ("c".to_owned(), "locked".to_owned(), a);
    assert!(store.storage_read(std::slice::from_ref(&id), Some(a)).await.unwrap().is_empty());
    assert_eq!(store.storage_read(&[id], None).await.unwrap().len(), 1);
    let mut public = w(a, "public", "{}", "");
    public.read = 2;
    store.storage_write(&[public, w(a, "private", "{}", "")], false, now()).await.unwrap().unwrap();
    let ids = [("c".to_owned(), "public".to_owned(), a), ("c".to_owned(), "private".to_owned(), a)];
    assert_eq!(store.storage_read(&ids, Some(a)).await.unwrap().len(), 2);
    let seen_by_b = store.storage_read(&ids, Some(b)).await.unwrap();
    assert_eq!(seen_by_b.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["public"]);
    assert_eq!(store.storage_delete(&[del], true).await.unwrap(), Ok(()));
});

store_test!(storage_listing_pages_in_nakamas_order, |store| {
    let a = user(&store, "a").await;
    let b = user(&store, "b").await;
    for (owner, key, read) in [(a, "k3", 2), (a, "k1", 1), (a, "k2", 2), (b, "k1", 2), (b, "k0", 1)] {
        let mut op = w(owner, key, "{}", "");
        op.read = read;
        store.storage_write(&[op], false, now()).await.unwrap().unwrap();
    }
    let keys = |rows: &[crate::storage::StorageRow]| rows.iter().map(|r| (r.key.clone(), r.user_id)).collect::<Vec<_>>();
    // Public: every owner's read=2, by (key, owner).
    let all = store.storage_list("c", ListScope::Public, None, 10).await.unwrap();
    let mut expected = vec![("k1".to_owned(), b), ("k2".to_owned(), a), ("k3".to_owned(), a)];
    expected.sort();
    assert_eq!(keys(&all), expected);
    // Own: read>=1 by (read, key): k1 (read 1) first.
    let own = store.storage_list("c", ListScope::Own(a), None, 10).await.unwrap();
    assert_eq!(own.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["k1", "k2", "k3"]);
    // Paging: limit 1 returns 2 rows (one extra), and continuing after the first gives the rest.
    let page = store.storage_list("c", ListScope::Own(a), None, 1).await.unwrap();
    assert_eq!(page.len(), 2);
    let after = ListPosition { read: page[0].read, key: page[0].key.clone(), user_id: page[0].user_id };
    let rest = store.storage_list("c", ListScope::Own(a), Some(&after), 10).await.unwrap();
    assert_eq!(rest.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["k2", "k3"]);
    // Another owner's objects: public only.
    let others = store.storage_list("c", ListScope::OthersPublic(b), None, 10).await.unwrap();
    assert_eq!(others.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["k1"]);
    assert_eq!(store.storage_list("c", ListScope::Any(None), None, 10).await.unwrap().len(), 5);
});

store_test!(concurrent_if_none_match_writes_have_exactly_one_winner, |store| {
    let a = user(&store, "a").await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.storage_write(&[w(a, "race", &format!(r#"{{"i":{i}}}"#), "*")], false, now()).await.unwrap()
        }));
    }
    let mut wins = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => wins += 1,
            Err(r) => assert_eq!(r, StorageReject::Version),
        }
    }
    assert_eq!(wins, 1);
});

store_test!(concurrent_if_match_writes_have_exactly_one_winner, |store| {
    let a = user(&store, "a").await;
    let v0 = store.storage_write(&[w(a, "race", "{}", "")], false, now()).await.unwrap().unwrap()[0].version.clone();
    let mut tasks = Vec::new();
    for i in 0..16 {
        let (store, v0) = (store.clone(), v0.clone());
        tasks.push(tokio::spawn(async move {
            store.storage_write(&[w(a, "race", &format!(r#"{{"i":{i}}}"#), &v0)], false, now()).await.unwrap()
        }));
    }
    let mut wins = 0;
    for t in tasks {
        if t.await.unwrap().is_ok() {
            wins += 1;
        }
    }
    assert_eq!(wins, 1);
});

fn change(user_id: Uuid, coins: i64) -> WalletChange {
    WalletChange { user_id, changeset: BTreeMap::from([("coins".to_owned(), coins)]), metadata: "{}".into() }
}

store_test!(wallet_updates_apply_atomically_and_never_go_negative, |store| {
    let a = user(&store, "a").await;
    let b = user(&store, "b").await;
    let done = store.wallet_update(&[change(a, 10), change(b, 5)], true, now()).await.unwrap().unwrap();
    assert_eq!(done.len(), 2);
    // b would go negative: the whole batch is refused, a keeps 10.
    let refused = store.wallet_update(&[change(a, 1), change(b, -6)], true, now()).await.unwrap();
    assert_eq!(refused, Err(WalletReject { path: "coins".into() }));
    let wallet = store.account_by_id(a).await.unwrap().map(|a| a.0).unwrap().wallet;
    assert_eq!(crate::wallet::parse_wallet(wallet.get())["coins"], 10);
    // Unknown users are skipped.
    assert!(store.wallet_update(&[change(Uuid::new_v4(), 1)], false, now()).await.unwrap().unwrap().is_empty());
    // The ledger has one entry per applied change, newest first, and metadata merges.
    let ledger = store.wallet_ledger_list(a, None, 10).await.unwrap();
    assert_eq!(ledger.len(), 1);
    let merged = store.wallet_ledger_update(ledger[0].id, r#"{"reason":"gift"}"#, now()).await.unwrap().unwrap();
    assert!(merged.metadata.get().contains("gift"));
});

store_test!(concurrent_wallet_spends_lose_no_update_and_stop_at_zero, |store| {
    let a = user(&store, "a").await;
    store.wallet_update(&[change(a, 10)], false, now()).await.unwrap().unwrap();
    let mut tasks = Vec::new();
    for _ in 0..25 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move { store.wallet_update(&[change(a, -1)], false, now()).await.unwrap() }));
    }
    for _ in 0..5 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move { store.wallet_update(&[change(a, 2)], false, now()).await.unwrap() }));
    }
    let mut spent = 0;
    for t in tasks {
        if let Ok(results) = t.await.unwrap()
            && results[0].updated["coins"] < results[0].previous["coins"]
        {
            spent += 1;
        }
    }
    let coins = crate::wallet::parse_wallet(store.account_by_id(a).await.unwrap().map(|a| a.0).unwrap().wallet.get())["coins"];
    // 10 + 5×2 = 20 coins could ever exist; every successful spend took exactly one.
    assert_eq!(coins, 20 - spent);
    assert!(coins >= 0);
});

store_test!(multi_update_is_all_or_nothing, |store| {
    let a = user(&store, "a").await;
    let ok = MultiUpdate {
        accounts: vec![(a, AccountUpdate { display_name: Some(Some("Multi".into())), metadata: Some(r#"{"m":1}"#.into()), ..Default::default() })],
        storage_writes: vec![w(a, "m1", "{}", "")],
        wallets: vec![change(a, 3)],
        update_ledger: true,
        ..Default::default()
    };
    let (acks, wallets) = store.multi_update(&ok, now()).await.unwrap().unwrap();
    assert_eq!((acks.len(), wallets.len()), (1, 1));
    let row = store.account_by_id(a).await.unwrap().map(|a| a.0).unwrap();
    assert_eq!(row.display_name.as_deref(), Some("Multi"));
    assert!(row.metadata.get().contains("\"m\""));
    // A failing wallet change undoes the account update and the storage write of the same call.
    let bad = MultiUpdate {
        accounts: vec![(a, AccountUpdate { display_name: Some(Some("Nope".into())), ..Default::default() })],
        storage_writes: vec![w(a, "m2", "{}", "")],
        wallets: vec![change(a, -100)],
        ..Default::default()
    };
    assert!(matches!(store.multi_update(&bad, now()).await.unwrap(), Err(MultiReject::Wallet(_))));
    assert_eq!(store.account_by_id(a).await.unwrap().map(|a| a.0).unwrap().display_name.as_deref(), Some("Multi"));
    assert!(store.storage_read(&[("c".into(), "m2".into(), a)], None).await.unwrap().is_empty());
});

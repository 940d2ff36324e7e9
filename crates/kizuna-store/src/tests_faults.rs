//! Fault injection on the store: a full disk and a write lock held by another process (SQLite),
//! and racing unconditional creates (both backends). Every acknowledged write must be in the
//! database file afterwards, and a failed one must leave nothing behind.

use std::time::Duration;

use sqlx::{sqlite::SqliteConnectOptions, ConnectOptions, Connection};
use uuid::Uuid;

use crate::{
    now,
    storage::{StorageReject, StorageWrite},
    testing::{TestBackend, TestDatabase},
    users::NewUser,
    Backend, Store,
};

fn write(owner: Uuid, key: &str, value: String, condition: &str) -> StorageWrite {
    StorageWrite {
        collection: "c".into(),
        key: key.into(),
        user_id: owner,
        new_version: format!("v{}", value.len()),
        value,
        condition: condition.into(),
        read: 1,
        write: 1,
    }
}

/// A JSON object of about `len` bytes.
fn big(len: usize) -> String {
    format!(r#"{{"pad":"{}"}}"#, "x".repeat(len))
}

async fn sqlite_store() -> (TestDatabase, Store, std::path::PathBuf) {
    let db = TestDatabase::new(TestBackend::Sqlite).await.expect("SQLite always works");
    let Backend::Sqlite { path } = db.config.backend.clone() else { unreachable!() };
    let store = Store::connect(&db.config).await.unwrap();
    (db, store, path)
}

/// Another process's connection to the same file.
async fn outside(path: &std::path::Path, busy: Duration) -> sqlx::SqliteConnection {
    SqliteConnectOptions::new().filename(path).busy_timeout(busy).connect().await.unwrap()
}

async fn stored_keys(path: &std::path::Path) -> Vec<String> {
    let mut conn = outside(path, Duration::from_secs(5)).await;
    let keys: Vec<(String,)> = sqlx::query_as("SELECT key FROM storage ORDER BY key").fetch_all(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    keys.into_iter().map(|k| k.0).collect()
}

#[tokio::test]
async fn sqlite_writes_after_disk_full_errors_are_committed_or_refused() {
    let (db, store, path) = sqlite_store().await;
    let owner = Uuid::new_v4();
    store.create_user(&NewUser { id: owner, username: "u".into(), create_time: now(), ..Default::default() }).await.unwrap();
    store.storage_write(&[write(owner, "existing", "{}".into(), "")], false, now()).await.unwrap().unwrap();
    let mut acknowledged = vec!["existing".to_owned()];

    // Cap the writer's file a few pages above its current size: SQLITE_FULL on demand.
    // A writer connection replaced after an error starts without the cap, so it is set again
    // after every failure.
    let pages = store.sqlite_writer_query("PRAGMA page_count").await.unwrap().unwrap();
    let cap = format!("PRAGMA max_page_count = {}", pages + 4);
    store.sqlite_writer_query(&cap).await.unwrap();

    // The disk fills up: large batches fail until two back-to-back errors were seen.
    let mut full_errors = 0;
    for i in 0..40 {
        let key = format!("k{i:02}");
        let batch = [write(owner, &key, big(3000), ""), write(owner, &format!("{key}b"), big(3000), "")];
        match store.storage_write(&batch, false, now()).await {
            Ok(Ok(_)) => acknowledged.extend([key.clone(), format!("{key}b")]),
            Ok(Err(reject)) => panic!("unexpected rejection {reject:?}"),
            Err(_) => {
                full_errors += 1;
                if full_errors == 2 {
                    break;
                }
                store.sqlite_writer_query(&cap).await.unwrap();
            }
        }
    }
    assert_eq!(full_errors, 2, "the cap produced SQLITE_FULL");

    // Space is freed. A write rejected on purpose (a stale version) rolls its transaction back,
    // then writes go on as usual: each one acknowledged must be committed.
    store.sqlite_writer_query("PRAGMA max_page_count = 1073741823").await.unwrap();
    let stale = [write(owner, "existing", big(10), "stale-version")];
    assert_eq!(store.storage_write(&stale, false, now()).await.unwrap(), Err(StorageReject::Version));
    for i in 0..10 {
        let key = format!("after{i:02}");
        store.storage_write(&[write(owner, &key, big(100), "")], false, now()).await.unwrap().unwrap();
        acknowledged.push(key);
    }

    // While the server is idle, another process can take the write lock at once.
    let mut other = outside(&path, Duration::from_millis(200)).await;
    sqlx::query("BEGIN IMMEDIATE").execute(&mut other).await.expect("no connection of the server holds a transaction open");
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    other.close().await.unwrap();

    // Every acknowledged write is in the file, seen from outside and after a restart.
    acknowledged.sort();
    assert_eq!(stored_keys(&path).await, acknowledged);
    store.close().await;
    let reopened = Store::connect(&db.config).await.unwrap();
    reopened.close().await;
    assert_eq!(stored_keys(&path).await, acknowledged);
    db.cleanup().await;
}

#[tokio::test]
async fn sqlite_write_waits_for_a_lock_held_by_another_process() {
    let (db, store, path) = sqlite_store().await;
    let owner = Uuid::new_v4();
    store.create_user(&NewUser { id: owner, username: "u".into(), create_time: now(), ..Default::default() }).await.unwrap();
    store.storage_write(&[write(owner, "k", "{}".into(), "")], false, now()).await.unwrap().unwrap();

    let mut other = outside(&path, Duration::from_secs(5)).await;
    sqlx::query("BEGIN IMMEDIATE").execute(&mut other).await.unwrap();
    sqlx::query("UPDATE users SET display_name = 'outside' WHERE id = $1").bind(owner).execute(&mut other).await.unwrap();
    // The write (a read of the existing row, then an update) starts while the lock is held and
    // must wait for it instead of failing with "database is locked".
    let pending = tokio::spawn({
        let store = store.clone();
        async move { store.storage_write(&[write(owner, "k", r#"{"n":1}"#.into(), "")], false, now()).await }
    });
    // The write must still be waiting a while later (it would have failed at once before).
    let mut pending = pending;
    tokio::time::timeout(Duration::from_millis(300), &mut pending)
        .await
        .expect_err("the write waits while another process holds the lock");
    sqlx::query("COMMIT").execute(&mut other).await.unwrap();
    other.close().await.unwrap();
    let acks = pending.await.unwrap().expect("no 'database is locked'").unwrap();
    assert_eq!(acks[0].version, "v7");
    store.close().await;
    db.cleanup().await;
}

async fn racing_unconditional_creates(kind: TestBackend) {
    let Some(db) = TestDatabase::new(kind).await else { return };
    let store = Store::connect(&db.config).await.unwrap();
    let owner = Uuid::new_v4();
    store.create_user(&NewUser { id: owner, username: "u".into(), create_time: now(), ..Default::default() }).await.unwrap();
    for round in 0..5 {
        let key = format!("new-{round}");
        let writers = (0..32).map(|i| {
            let store = store.clone();
            let key = key.clone();
            tokio::spawn(async move { store.storage_write(&[write(owner, &key, format!(r#"{{"i":{i}}}"#), "")], false, now()).await })
        });
        for w in writers.collect::<Vec<_>>() {
            let result = w.await.unwrap().expect("no database error");
            assert!(result.is_ok(), "an unconditional write is never rejected: {result:?}");
        }
    }
    store.close().await;
    db.cleanup().await;
}

#[tokio::test]
async fn concurrent_unconditional_creates_all_succeed_sqlite() {
    racing_unconditional_creates(TestBackend::Sqlite).await;
}

#[tokio::test]
async fn concurrent_unconditional_creates_all_succeed_postgres() {
    racing_unconditional_creates(TestBackend::Postgres).await;
}

#[tokio::test]
async fn sqlite_concurrent_writes_share_fsyncs_and_are_durable() {
    let (db, store, path) = sqlite_store().await;
    let owner = Uuid::new_v4();
    store.create_user(&NewUser { id: owner, username: "u".into(), create_time: now(), ..Default::default() }).await.unwrap();
    // The writer commits without its own sync; acknowledgements wait for the shared one.
    assert_eq!(store.sqlite_writer_query("PRAGMA synchronous").await.unwrap(), Some(1), "NORMAL");
    let before = store.group_commit_syncs();
    let writes = (0..64).map(|i| {
        let store = store.clone();
        tokio::spawn(async move { store.storage_write(&[write(owner, &format!("g{i:02}"), "{}".into(), "")], false, now()).await })
    });
    for w in writes.collect::<Vec<_>>() {
        w.await.unwrap().unwrap().unwrap();
    }
    let syncs = store.group_commit_syncs() - before;
    assert!(syncs >= 1, "acknowledged writes were synced");
    assert!(syncs < 64, "concurrent writes shared fsyncs ({syncs} for 64 writes)");
    store.close().await;
    assert_eq!(stored_keys(&path).await.len(), 64);
    db.cleanup().await;
}

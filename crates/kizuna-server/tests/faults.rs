//! Fault injection against real servers (issue #18): the `kizuna` process killed with SIGKILL
//! in the middle of writes, and PostgreSQL dropping the server's connections. Every write that
//! was acknowledged must be there afterwards; the server must recover by itself. (SQLITE_FULL
//! and a write lock held by another process are covered in kizuna-store's `tests_faults.rs`.)

use std::{
    collections::BTreeSet,
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use kizuna_testkit::{Auth, TestBackend, TestDatabase, TestServer};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

/// A `kizuna` process and the address it serves on.
struct Process {
    child: Child,
    base: String,
}

/// Starts the binary on `db` and waits for its "listening" line.
async fn spawn(db: &TestDatabase) -> Process {
    let (address, dir) = db.server_address();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kizuna"))
        .args(["--data_dir", dir.to_str().unwrap(), "--database.address", &address])
        .args(["--socket.address", "127.0.0.1", "--socket.port", "0", "--logger.format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start kizuna");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let Ok(v) = serde_json::from_str::<Value>(&line) else { continue };
            if let Some(a) = v.get("http_addr").or_else(|| v["fields"].get("http_addr")).and_then(Value::as_str) {
                return a.to_owned();
            }
        }
        panic!("kizuna exited before listening");
    })
    .await
    .expect("kizuna listens in time");
    // Keep draining its output so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Process { child, base: format!("http://{addr}") }
}

async fn authenticate(http: &reqwest::Client, base: &str, device: &str) -> String {
    let reply: Value = http
        .post(format!("{base}/v2/account/authenticate/device"))
        .basic_auth("defaultkey", Some(""))
        .json(&json!({"id": device}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    reply["token"].as_str().expect("a session token").to_owned()
}

/// Writes objects with distinct keys from `writers` tasks until stopped; returns the keys whose
/// writes were acknowledged (200).
fn start_writers(base: &str, token: &str, writers: usize) -> (Arc<Mutex<BTreeSet<String>>>, tokio::sync::watch::Sender<bool>) {
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    for w in 0..writers {
        let (acked, stopped, base, token) = (acked.clone(), stopped.clone(), base.to_owned(), token.to_owned());
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            for i in 0.. {
                if *stopped.borrow() {
                    break;
                }
                let key = format!("w{w}-{i:05}");
                let body = json!({"objects": [{"collection": "faults", "key": key, "value": "{\"n\":1}"}]});
                match http.put(format!("{base}/v2/storage")).bearer_auth(&token).json(&body).send().await {
                    Ok(r) if r.status() == 200 => {
                        acked.lock().unwrap().insert(key);
                    }
                    Ok(_) => {}
                    Err(_) => break, // the server is gone
                }
            }
        });
    }
    (acked, stop)
}

/// Every key of the `faults` collection the user owns, by listing.
async fn stored_keys(http: &reqwest::Client, base: &str, token: &str) -> BTreeSet<String> {
    let account: Value = http.get(format!("{base}/v2/account")).bearer_auth(token).send().await.unwrap().json().await.unwrap();
    let user_id = account["user"]["id"].as_str().expect("the account").to_owned();
    let mut keys = BTreeSet::new();
    let mut cursor = String::new();
    loop {
        let url = format!("{base}/v2/storage/faults?user_id={user_id}&limit=100&cursor={cursor}");
        let page: Value = http.get(url).bearer_auth(token).send().await.unwrap().json().await.unwrap();
        for o in page["objects"].as_array().into_iter().flatten() {
            keys.insert(o["key"].as_str().unwrap().to_owned());
        }
        match page["cursor"].as_str() {
            Some(c) if !c.is_empty() => cursor = c.to_owned(),
            _ => return keys,
        }
    }
}

async fn sigkill_during_writes_loses_no_acknowledged_write(kind: TestBackend) {
    let Some(db) = TestDatabase::new(kind).await else { return };
    let http = reqwest::Client::new();
    let mut process = spawn(&db).await;
    let token = authenticate(&http, &process.base, "device-faults-0001").await;
    let (acked, stop) = start_writers(&process.base, &token, 8);
    // Kill the server once a good number of writes went through, with more in flight.
    tokio::time::timeout(Duration::from_secs(60), async {
        while acked.lock().unwrap().len() < 300 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("writes are acknowledged");
    process.child.start_kill().unwrap(); // SIGKILL
    process.child.wait().await.unwrap();
    let _ = stop.send(true);
    let acked: BTreeSet<String> = acked.lock().unwrap().clone();

    let restarted = spawn(&db).await;
    let token = authenticate(&http, &restarted.base, "device-faults-0001").await;
    let stored = stored_keys(&http, &restarted.base, &token).await;
    let lost: Vec<_> = acked.difference(&stored).collect();
    assert!(lost.is_empty(), "{} acknowledged writes lost after SIGKILL: {:?}", lost.len(), lost.iter().take(5).collect::<Vec<_>>());
    drop(restarted);
    db.cleanup().await;
}


#[tokio::test]
async fn dropped_postgres_connections_fail_cleanly_and_recover() {
    let Some(server) = TestServer::start(TestBackend::Postgres).await else { return };
    let user = server.new_user().await;
    let base = server.url("");
    let (acked, stop) = start_writers(&base, &user.token, 8);
    let admin_url = format!("{}/postgres", kizuna_store::testing::pg_base_url());
    let name = server.database().pg_database().unwrap().to_owned();
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url).await.unwrap();
    // Terminate every connection of the server's database several times under load.
    for round in 1..=5 {
        tokio::time::timeout(Duration::from_secs(60), async {
            while acked.lock().unwrap().len() < round * 100 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("writes keep being acknowledged between the drops");
        sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()")
            .bind(&name)
            .execute(&mut admin)
            .await
            .unwrap();
    }
    let _ = stop.send(true);
    // The server recovered: a new write succeeds, and every acknowledged one is there.
    let write = r#"{"objects":[{"collection":"faults","key":"after","value":"{}"}]}"#;
    let reply = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let r = server.call(Method::PUT, "/v2/storage", user.auth(), Some(write)).await;
            if r.status == 200 {
                return r;
            }
        }
    })
    .await
    .expect("writes succeed again after the drops");
    assert_eq!(reply.status, 200);
    let acked: BTreeSet<String> = acked.lock().unwrap().clone();
    let stored = stored_keys(&reqwest::Client::new(), &base, &user.token).await;
    assert!(acked.is_subset(&stored), "acknowledged writes missing after dropped connections");
    assert_eq!(server.call(Method::GET, "/readyz", Auth::None, None).await.status, 200);
    server.stop().await;
}

kizuna_testkit::on_both_backends!(sigkill_during_writes_loses_no_acknowledged_write);

//! Scenarios: what one simulated client does per request, and the set-up before the clock starts.

use std::time::Duration;

use base64::Engine;
use serde_json::Value;

/// Where to send load.
#[derive(Debug, Clone)]
pub struct Target {
    pub base_url: String,
    pub server_key: String,
    pub http: reqwest::Client,
}

impl Target {
    pub fn new(base_url: &str, server_key: &str) -> anyhow::Result<Target> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1024)
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Target { base_url: base_url.trim_end_matches('/').to_owned(), server_key: server_key.to_owned(), http })
    }

    fn basic(&self) -> String {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{}:", self.server_key)))
    }
}

/// The named workloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Device authentication creating a new user each time.
    AuthNew,
    /// Device authentication of existing users.
    AuthExisting,
    /// `GET /v2/account` with a session token.
    AccountGet,
    /// `PUT /v2/storage`: one 1 KiB object per request, each worker overwriting its own keys.
    StorageWrite,
    /// `POST /v2/storage`: read one 1 KiB object the worker wrote during set-up.
    StorageRead,
    /// `GET /v2/friend?limit=1000` of one user with `--size` friends (default 1,000).
    FriendsList,
    /// `GET /v2/group?name=<2 hex digits>%&limit=100` over `--size` groups (default 100,000)
    /// whose names start with random hex.
    GroupsList,
    /// `GET /v2/channel/2...bench-history?limit=100&forward=false`, each worker paging back
    /// through the room's history with `next_cursor` (restarting at the end or after 50 pages).
    /// Set-up sends `--size` messages to the room first (default 0: seeded beforehand).
    ChatHistory,
    /// `POST /v2/rpc/echo` with a small JSON payload: a runtime function `echo` that returns its
    /// payload must be registered on the server (skipped with a message when it is not).
    RpcEcho,
}

/// A scenario the target cannot run (a feature it lacks); not a failure of the server.
#[derive(Debug)]
pub struct Skipped(pub String);

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Skipped {}

/// The body of an `rpc-echo` request: REST RPCs take the payload as a JSON string.
const ECHO_BODY: &str = r#""{\"bench\":\"kizuna\",\"seq\":12345,\"data\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}""#;

impl Scenario {
    pub const ALL: [Scenario; 9] = [
        Scenario::AuthNew,
        Scenario::AuthExisting,
        Scenario::AccountGet,
        Scenario::StorageWrite,
        Scenario::StorageRead,
        Scenario::FriendsList,
        Scenario::GroupsList,
        Scenario::ChatHistory,
        Scenario::RpcEcho,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::AuthNew => "auth-new",
            Scenario::AuthExisting => "auth-existing",
            Scenario::AccountGet => "account-get",
            Scenario::StorageWrite => "storage-write",
            Scenario::StorageRead => "storage-read",
            Scenario::FriendsList => "friends-list",
            Scenario::GroupsList => "groups-list",
            Scenario::ChatHistory => "chat-history",
            Scenario::RpcEcho => "rpc-echo",
        }
    }

    pub fn parse(name: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Set-up that is not measured: accounts to sign in to, sessions to use.
    pub async fn prepare(self, target: &Target, clients: usize, size: Option<usize>) -> anyhow::Result<Prepared> {
        let run_id = uuid::Uuid::new_v4().simple().to_string();
        let mut tokens = Vec::new();
        let value = one_kib_value();
        if self != Scenario::AuthNew {
            for worker in 0..clients {
                let session = authenticate(target, &format!("bench-{run_id}-{worker}")).await?;
                tokens.push(session);
            }
        }
        let mut user_ids = Vec::new();
        for token in &tokens {
            user_ids.push(user_id_of(token)?);
        }
        if self == Scenario::StorageRead {
            for token in &tokens {
                let response = target
                    .http
                    .put(format!("{}/v2/storage", target.base_url))
                    .header("Authorization", format!("Bearer {token}"))
                    .json(&storage_write_body("bench-0", &value))
                    .send()
                    .await?;
                anyhow::ensure!(response.status().is_success(), "storage set-up write failed: {}", response.status());
            }
        }
        match self {
            Scenario::FriendsList => {
                let hub = authenticate(target, &format!("bench-{run_id}-hub")).await?;
                prepare_friends(target, &run_id, &hub, size.unwrap_or(1000)).await?;
                // Set-up may outlive a session token (60 s by default): sign in again.
                let hub = authenticate(target, &format!("bench-{run_id}-hub")).await?;
                tokens = vec![hub; clients];
            }
            Scenario::GroupsList => {
                prepare_groups(target, &run_id, size.unwrap_or(100_000)).await?;
                for (worker, token) in tokens.iter_mut().enumerate() {
                    *token = authenticate(target, &format!("bench-{run_id}-{worker}")).await?;
                }
            }
            Scenario::ChatHistory => crate::socket::send_to_room(target, &tokens[0], HISTORY_ROOM, size.unwrap_or(0)).await?,
            Scenario::RpcEcho => {
                let response = rpc_echo(target, &tokens[0]).send().await?;
                let status = response.status();
                let body = response.text().await.unwrap_or_default();
                if status.as_u16() == 404 {
                    return Err(Skipped(format!("rpc-echo skipped: the server has no runtime function `echo` ({status}: {body})")).into());
                }
                anyhow::ensure!(status.is_success(), "rpc-echo set-up call failed: {status}: {body}");
            }
            _ => {}
        }
        let cursors = std::sync::Mutex::new(vec![(String::new(), 0); clients]);
        Ok(Prepared { scenario: self, run_id, tokens, user_ids, value, cursors })
    }
}

/// Runs `count` set-up steps, at most 32 at a time.
async fn in_parallel<F, Fut>(count: usize, step: F) -> anyhow::Result<()>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    use futures_util::{stream, StreamExt, TryStreamExt};
    stream::iter(0..count).map(step).buffer_unordered(32).try_collect::<Vec<()>>().await?;
    Ok(())
}

async fn expect_ok(request: reqwest::RequestBuilder, what: &str) -> anyhow::Result<Value> {
    let response = request.send().await?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    anyhow::ensure!(status.is_success(), "{what} failed: {status} {body}");
    Ok(body)
}

/// `count` users who each invite the hub, then the hub accepts them all (100 per request).
async fn prepare_friends(target: &Target, run_id: &str, hub: &str, count: usize) -> anyhow::Result<()> {
    let hub_id = user_id_of(hub)?;
    let ids = std::sync::Mutex::new(Vec::with_capacity(count));
    in_parallel(count, |i| {
        let (hub_id, ids) = (&hub_id, &ids);
        async move {
            let token = authenticate(target, &format!("bench-{run_id}-friend-{i}")).await?;
            let request = target.http.post(format!("{}/v2/friend?ids={hub_id}", target.base_url)).bearer_auth(&token);
            expect_ok(request, "friend invite").await?;
            ids.lock().expect("not poisoned").push(user_id_of(&token)?);
            Ok(())
        }
    })
    .await?;
    let ids = ids.into_inner().expect("not poisoned");
    for chunk in ids.chunks(100) {
        let query: Vec<String> = chunk.iter().map(|id| format!("ids={id}")).collect();
        let request = target.http.post(format!("{}/v2/friend?{}", target.base_url, query.join("&"))).bearer_auth(hub);
        expect_ok(request, "friend accept").await?;
    }
    let list = expect_ok(target.http.get(format!("{}/v2/friend?state=0&limit=1000", target.base_url)).bearer_auth(hub), "friend list").await?;
    let listed = list["friends"].as_array().map_or(0, Vec::len);
    anyhow::ensure!(listed == count.min(1000), "the hub has {listed} friends, expected {count}");
    Ok(())
}

/// `count` groups named `<8 random hex digits>-<run>-<n>`, created 5,000 at a time, each batch
/// by a freshly signed-in user (a batch takes well under a session token's lifetime).
async fn prepare_groups(target: &Target, run_id: &str, count: usize) -> anyhow::Result<()> {
    for (batch, first) in (0..count).step_by(5000).enumerate() {
        let token = authenticate(target, &format!("bench-{run_id}-creator-{batch}")).await?;
        let token = &token;
        in_parallel((count - first).min(5000), |j| async move {
            let i = first + j;
            let name = format!("{:08x}-{}-{i}", uuid::Uuid::new_v4().as_u128() as u32, &run_id[..8]);
            let request = target.http.post(format!("{}/v2/group", target.base_url)).bearer_auth(token).json(&serde_json::json!({ "name": name }));
            expect_ok(request, "group create").await?;
            Ok(())
        })
        .await?;
    }
    Ok(())
}

/// Two hex digits that vary with the worker and the request, for name prefix searches.
fn hex_prefix(worker: usize, seq: u64) -> String {
    let mixed = (seq ^ ((worker as u64) << 32)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    format!("{:02x}", (mixed >> 56) as u8)
}

/// A scenario ready to run.
pub struct Prepared {
    scenario: Scenario,
    run_id: String,
    /// Per worker: a session token of its own account, and that account's id.
    tokens: Vec<String>,
    user_ids: Vec<String>,
    /// The 1 KiB JSON object storage scenarios write.
    value: String,
    /// Per worker, for history paging: the cursor to use next and pages read since the start.
    cursors: std::sync::Mutex<Vec<(String, u32)>>,
}

/// The room `chat-history` reads (`scripts/bench` seeds it).
pub const HISTORY_ROOM: &str = "bench-history";

/// A JSON object of exactly 1024 bytes.
fn one_kib_value() -> String {
    let prefix = r#"{"data":""#;
    let suffix = r#""}"#;
    format!("{prefix}{}{suffix}", "x".repeat(1024 - prefix.len() - suffix.len()))
}

/// `value` with its last characters replaced by `seq`, keeping the length (1 KiB).
fn stamped(value: &str, seq: u64) -> String {
    let stamp = format!("{seq:020}");
    let cut = value.len() - 2 - stamp.len();
    format!("{}{stamp}\"}}", &value[..cut])
}

fn storage_write_body(key: &str, value: &str) -> Value {
    serde_json::json!({ "objects": [{ "collection": "bench", "key": key, "value": value }] })
}

/// The `uid` claim of a session token.
pub(crate) fn user_id_of(token: &str) -> anyhow::Result<String> {
    let payload = token.split('.').nth(1).ok_or_else(|| anyhow::anyhow!("malformed session token"))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload)?;
    let claims: Value = serde_json::from_slice(&bytes)?;
    Ok(claims["uid"].as_str().unwrap_or_default().to_owned())
}

pub(crate) async fn authenticate(target: &Target, device_id: &str) -> anyhow::Result<String> {
    let response = target
        .http
        .post(format!("{}/v2/account/authenticate/device", target.base_url))
        .header("Authorization", target.basic())
        .json(&serde_json::json!({ "id": device_id }))
        .send()
        .await?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    match body["token"].as_str() {
        Some(t) if status.is_success() => Ok(t.to_owned()),
        _ => anyhow::bail!("authenticating {device_id} failed: {status} {body}"),
    }
}

/// Classifies a failed request for the error table.
fn rpc_echo(target: &Target, token: &str) -> reqwest::RequestBuilder {
    target
        .http
        .post(format!("{}/v2/rpc/echo", target.base_url))
        .header("Authorization", format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .body(ECHO_BODY)
}

fn classify(result: Result<reqwest::Response, reqwest::Error>) -> Result<reqwest::Response, String> {
    match result {
        Ok(r) if r.status().is_success() => Ok(r),
        Ok(r) => Err(format!("http {}", r.status().as_u16())),
        Err(e) if e.is_timeout() => Err("timeout".into()),
        Err(e) if e.is_connect() => Err("connect".into()),
        Err(_) => Err("transport".into()),
    }
}

impl Prepared {
    /// One request of worker `worker`, its `seq`-th.
    pub async fn call(&self, target: &Target, worker: usize, seq: u64) -> Result<(), String> {
        let request = match self.scenario {
            Scenario::AuthNew => target
                .http
                .post(format!("{}/v2/account/authenticate/device", target.base_url))
                .header("Authorization", target.basic())
                .json(&serde_json::json!({ "id": format!("bench-{}-{worker}-{seq}", self.run_id) })),
            Scenario::AuthExisting => target
                .http
                .post(format!("{}/v2/account/authenticate/device", target.base_url))
                .header("Authorization", target.basic())
                .json(&serde_json::json!({ "id": format!("bench-{}-{worker}", self.run_id) })),
            Scenario::AccountGet => target
                .http
                .get(format!("{}/v2/account", target.base_url))
                .header("Authorization", format!("Bearer {}", self.tokens[worker])),
            Scenario::StorageWrite => target
                .http
                .put(format!("{}/v2/storage", target.base_url))
                .header("Authorization", format!("Bearer {}", self.tokens[worker]))
                // 16 keys per worker, overwritten in turn; the value changes every time (an
                // identical rewrite is acknowledged without writing, which would not measure writes).
                .json(&storage_write_body(&format!("bench-{}", seq % 16), &stamped(&self.value, seq))),
            Scenario::StorageRead => target
                .http
                .post(format!("{}/v2/storage", target.base_url))
                .header("Authorization", format!("Bearer {}", self.tokens[worker]))
                .json(&serde_json::json!({ "object_ids": [
                    { "collection": "bench", "key": "bench-0", "user_id": self.user_ids[worker] }
                ] })),
            Scenario::FriendsList => target
                .http
                .get(format!("{}/v2/friend?limit=1000", target.base_url))
                .header("Authorization", format!("Bearer {}", self.tokens[worker])),
            Scenario::GroupsList => target
                .http
                .get(format!("{}/v2/group?name={}%25&limit=100", target.base_url, hex_prefix(worker, seq)))
                .header("Authorization", format!("Bearer {}", self.tokens[worker])),
            Scenario::RpcEcho => rpc_echo(target, &self.tokens[worker]),
            Scenario::ChatHistory => {
                let cursor = self.cursors.lock().expect("not poisoned")[worker].0.clone();
                let response = classify(
                    target
                        .http
                        .get(format!("{}/v2/channel/2...{HISTORY_ROOM}?limit=100&forward=false&cursor={cursor}", target.base_url))
                        .header("Authorization", format!("Bearer {}", self.tokens[worker]))
                        .send()
                        .await,
                )?;
                let body: Value = response.json().await.map_err(|_| "body".to_owned())?;
                let mut cursors = self.cursors.lock().expect("not poisoned");
                let (next, pages) = &mut cursors[worker];
                *pages += 1;
                match body["next_cursor"].as_str() {
                    Some(c) if *pages < 50 => *next = c.to_owned(),
                    _ => (*next, *pages) = (String::new(), 0),
                }
                return Ok(());
            }
        };
        let response = classify(request.send().await)?;
        // Read the whole body: a server is not done until the client has the answer.
        response.bytes().await.map_err(|_| "body".to_owned())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn stamped_values_keep_one_kib_and_differ() {
        let v = super::one_kib_value();
        assert_eq!(v.len(), 1024);
        let (a, b) = (super::stamped(&v, 1), super::stamped(&v, 2));
        assert_eq!((a.len(), b.len()), (1024, 1024));
        assert_ne!(a, b);
        assert!(serde_json::from_str::<serde_json::Value>(&a).unwrap().is_object());
    }
}

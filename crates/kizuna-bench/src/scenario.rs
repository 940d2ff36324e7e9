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
}

impl Scenario {
    pub const ALL: [Scenario; 5] =
        [Scenario::AuthNew, Scenario::AuthExisting, Scenario::AccountGet, Scenario::StorageWrite, Scenario::StorageRead];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::AuthNew => "auth-new",
            Scenario::AuthExisting => "auth-existing",
            Scenario::AccountGet => "account-get",
            Scenario::StorageWrite => "storage-write",
            Scenario::StorageRead => "storage-read",
        }
    }

    pub fn parse(name: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Set-up that is not measured: accounts to sign in to, sessions to use.
    pub async fn prepare(self, target: &Target, clients: usize) -> anyhow::Result<Prepared> {
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
        Ok(Prepared { scenario: self, run_id, tokens, user_ids, value })
    }
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
}

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

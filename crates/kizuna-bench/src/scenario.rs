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
}

impl Scenario {
    pub const ALL: [Scenario; 3] = [Scenario::AuthNew, Scenario::AuthExisting, Scenario::AccountGet];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::AuthNew => "auth-new",
            Scenario::AuthExisting => "auth-existing",
            Scenario::AccountGet => "account-get",
        }
    }

    pub fn parse(name: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Set-up that is not measured: accounts to sign in to, sessions to use.
    pub async fn prepare(self, target: &Target, clients: usize) -> anyhow::Result<Prepared> {
        let run_id = uuid::Uuid::new_v4().simple().to_string();
        let mut tokens = Vec::new();
        if matches!(self, Scenario::AuthExisting | Scenario::AccountGet) {
            for worker in 0..clients {
                let session = authenticate(target, &format!("bench-{run_id}-{worker}")).await?;
                tokens.push(session);
            }
        }
        Ok(Prepared { scenario: self, run_id, tokens })
    }
}

/// A scenario ready to run.
pub struct Prepared {
    scenario: Scenario,
    run_id: String,
    /// Per worker: a session token of its own account.
    tokens: Vec<String>,
}

async fn authenticate(target: &Target, device_id: &str) -> anyhow::Result<String> {
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
        };
        let response = classify(request.send().await)?;
        // Read the whole body: a server is not done until the client has the answer.
        response.bytes().await.map_err(|_| "body".to_owned())?;
        Ok(())
    }
}

//! Test support: [`TestServer`] starts a real Kizuna on `127.0.0.1:0` with a fresh SQLite or
//! PostgreSQL database, and offers a small REST client speaking Nakama's wire conventions.
//! Use [`server_test!`] to run one test body on both backends.

pub mod socket;

use std::net::SocketAddr;

use base64::Engine;
use kizuna_server::{config::Config, start, Listeners, RunningServer};
pub use kizuna_store::testing::{TestBackend, TestDatabase};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// A running server on a fresh database. Call [`TestServer::stop`] at the end of a test.
pub struct TestServer {
    server: RunningServer,
    db: TestDatabase,
    http: reqwest::Client,
    pub config: Config,
}

/// How a request authenticates.
#[derive(Debug, Clone)]
pub enum Auth<'a> {
    None,
    /// `Authorization: Basic base64("<key>:")`.
    ServerKey(&'a str),
    /// `Authorization: Bearer <token>`.
    Bearer(&'a str),
    /// Any raw header value.
    Raw(&'a str),
}

/// A response: status and parsed JSON body (`Value::Null` when the body is empty or not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    /// Asserts a Nakama error: HTTP status, gRPC code and exact message.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: i64, message: &str) {
        assert_eq!(
            (self.status.as_u16(), self.body["code"].as_i64(), self.body["message"].as_str()),
            (status, Some(code), Some(message)),
            "unexpected reply {self:?}"
        );
    }

    /// Asserts a 200 and returns the body.
    #[track_caller]
    pub fn ok(self) -> Value {
        assert_eq!(self.status, StatusCode::OK, "unexpected reply {self:?}");
        self.body
    }
}

impl TestServer {
    /// Starts a server with default settings, or `None` if the backend is unavailable (see
    /// [`TestDatabase::new`]).
    pub async fn start(kind: TestBackend) -> Option<TestServer> {
        TestServer::start_with(kind, |_| {}).await
    }

    /// Starts a server after `adjust` edits the configuration.
    pub async fn start_with(kind: TestBackend, adjust: impl FnOnce(&mut Config)) -> Option<TestServer> {
        let db = TestDatabase::new(kind).await?;
        let (address, dir) = db.server_address();
        let mut config = Config::defaults();
        config.database.address = address;
        config.database.max_open_conns = 8;
        config.data_dir = dir;
        config.socket.address = "127.0.0.1".into();
        config.socket.port = 0;
        config.shutdown_grace_sec = 5;
        // Tests sign tokens with Nakama's default keys; a test of the generated keys unmarks them.
        config.explicit.extend(["session.encryption_key".to_owned(), "session.refresh_encryption_key".to_owned()]);
        adjust(&mut config);
        let listeners = Listeners::bind(&config).await.expect("bind test listeners");
        let server = start(config.clone(), listeners).await.expect("start test server");
        let http = reqwest::Client::builder().build().expect("http client");
        Some(TestServer { server, db, http, config })
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.http_addr()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr(), path)
    }

    pub fn running(&self) -> &RunningServer {
        &self.server
    }

    /// The test's database.
    pub fn database(&self) -> &TestDatabase {
        &self.db
    }

    /// Opens a realtime socket with `query` (e.g. `token=...&format=protobuf`).
    pub async fn socket(&self, query: &str) -> Result<socket::TestSocket, (u16, String)> {
        socket::TestSocket::connect(&format!("ws://{}/ws?{query}", self.addr())).await
    }

    /// A user's socket in `format` (`json` or `protobuf`), connected once a ping has been answered.
    pub async fn socket_for(&self, user: &TestUser, format: &str) -> socket::TestSocket {
        let mut s = self.socket(&format!("token={}&format={format}", user.token)).await.expect("socket connects");
        s.call(serde_json::json!({"cid": "ping", "ping": {}})).await;
        s
    }

    /// A raw request builder with authentication applied.
    pub fn request(&self, method: Method, path: &str, auth: Auth<'_>) -> reqwest::RequestBuilder {
        let builder = self.http.request(method, self.url(path));
        match auth {
            Auth::None => builder,
            Auth::ServerKey(key) => {
                let v = base64::engine::general_purpose::STANDARD.encode(format!("{key}:"));
                builder.header("Authorization", format!("Basic {v}"))
            }
            Auth::Bearer(token) => builder.header("Authorization", format!("Bearer {token}")),
            Auth::Raw(value) => builder.header("Authorization", value),
        }
    }

    /// Sends a request with an optional raw body and reads the reply.
    pub async fn call(&self, method: Method, path: &str, auth: Auth<'_>, body: Option<&str>) -> Reply {
        let mut builder = self.request(method, path, auth);
        if let Some(b) = body {
            builder = builder.header("Content-Type", "application/json").body(b.to_owned());
        }
        let response = builder.send().await.expect("request reaches the test server");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("read body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply { status, body, headers }
    }

    /// Authenticates a device (creating the account) and returns the session JSON.
    pub async fn auth_device(&self, device_id: &str, username: Option<&str>) -> Value {
        let path = match username {
            Some(u) => format!("/v2/account/authenticate/device?username={u}"),
            None => "/v2/account/authenticate/device".to_owned(),
        };
        let body = serde_json::json!({ "id": device_id }).to_string();
        self.call(Method::POST, &path, Auth::ServerKey("defaultkey"), Some(&body)).await.ok()
    }

    /// Authenticates a fresh device and returns its session token.
    pub async fn new_user_token(&self) -> String {
        let device = format!("device-{}", uuid::Uuid::new_v4().simple());
        self.auth_device(&device, None).await["token"].as_str().expect("token").to_owned()
    }

    /// Creates an account with a chosen username (device auth) and returns who it is.
    pub async fn new_user_named(&self, username: &str) -> TestUser {
        let device = format!("device-{}", uuid::Uuid::new_v4().simple());
        let token = self.auth_device(&device, Some(username)).await["token"].as_str().expect("token").to_owned();
        let id = jwt_claims(&token)["uid"].as_str().expect("uid").parse().expect("uuid");
        TestUser { token, id, username: username.to_owned() }
    }

    /// Creates an account with a generated username.
    pub async fn new_user(&self) -> TestUser {
        let name = format!("u{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        self.new_user_named(&name).await
    }

    /// Shuts the server down gracefully and starts a new one on the same database and settings
    /// (on a new port).
    pub async fn restart(self) -> TestServer {
        let TestServer { server, db, http, config } = self;
        server.shutdown().await.expect("clean shutdown");
        let listeners = Listeners::bind(&config).await.expect("bind test listeners");
        let server = start(config.clone(), listeners).await.expect("restart test server");
        TestServer { server, db, http, config }
    }

    /// Shuts the server down gracefully and drops the database.
    pub async fn stop(self) {
        self.server.shutdown().await.expect("clean shutdown");
        self.db.cleanup().await;
    }
}

/// A test account: its session token, id and username.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub token: String,
    pub id: uuid::Uuid,
    pub username: String,
}

impl TestUser {
    /// Bearer authentication as this user.
    pub fn auth(&self) -> Auth<'_> {
        Auth::Bearer(&self.token)
    }
}

/// Decodes a JWT's claims without verifying it.
pub fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64url claims");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

/// Defines a test that runs once on SQLite and once on PostgreSQL against a fresh
/// [`TestServer`]; the body gets `$server: TestServer` and must not call `stop` (the macro does).
#[macro_export]
macro_rules! server_test {
    ($name:ident, |$server:ident| $body:block) => {
        $crate::server_test!($name, |_c| {}, |$server| $body);
    };
    ($name:ident, |$cfg:ident| $adjust:block, |$server:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run(kind: $crate::TestBackend) {
                let Some($server) = $crate::TestServer::start_with(kind, |$cfg| $adjust).await else { return };
                $body
                $server.stop().await;
            }

            #[tokio::test]
            async fn sqlite() {
                run($crate::TestBackend::Sqlite).await
            }

            #[tokio::test]
            async fn postgres() {
                run($crate::TestBackend::Postgres).await
            }
        }
    };
}

/// For each `async fn NAME(kind: TestBackend)` of the calling module, defines the tests
/// `NAME::sqlite` and `NAME::postgres` (for tests that manage their own servers, e.g. restarts).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$name($crate::TestBackend::Sqlite).await
                }

                #[tokio::test]
                async fn postgres() {
                    super::$name($crate::TestBackend::Postgres).await
                }
            }
        )+
    };
}

//! Throw-away databases for tests: a fresh SQLite file in a temporary directory, or a fresh
//! PostgreSQL database named `kizuna_t_<uuid>` on the server in `KIZUNA_TEST_PG`
//! (default `postgres://postgres@127.0.0.1:5432`).
//!
//! When PostgreSQL cannot be reached, PostgreSQL tests report it on stderr and return early —
//! unless `KIZUNA_REQUIRE_PG=1` (set by `scripts/test` whenever PostgreSQL is available, and so
//! in CI), in which case they fail.

use std::path::PathBuf;

use sqlx::{postgres::PgConnectOptions, ConnectOptions, Connection};

use crate::{Backend, DatabaseConfig};

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
}

/// A database that exists for one test.
pub struct TestDatabase {
    pub config: DatabaseConfig,
    /// Keeps the SQLite directory alive for the test's duration.
    _dir: tempfile::TempDir,
    pg_name: Option<String>,
}

/// The PostgreSQL server tests use, without a database name.
pub fn pg_base_url() -> String {
    std::env::var("KIZUNA_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

fn pg_required() -> bool {
    std::env::var("KIZUNA_REQUIRE_PG").is_ok_and(|v| v == "1")
}

impl TestDatabase {
    /// A fresh database, or `None` when PostgreSQL is unreachable and not required.
    pub async fn new(kind: TestBackend) -> Option<TestDatabase> {
        let dir = tempfile::tempdir().expect("temporary directory");
        match kind {
            TestBackend::Sqlite => {
                let path: PathBuf = dir.path().join("kizuna.db");
                Some(TestDatabase {
                    config: DatabaseConfig {
                        backend: Backend::Sqlite { path },
                        max_open_conns: 4,
                        create_database: true,
                        sqlite_busy_timeout: DatabaseConfig::DEFAULT_SQLITE_BUSY_TIMEOUT,
                    },
                    _dir: dir,
                    pg_name: None,
                })
            }
            TestBackend::Postgres => {
                let base = pg_base_url();
                let admin: PgConnectOptions = format!("{base}/postgres").parse().expect("KIZUNA_TEST_PG is a postgres URL");
                match admin.connect().await {
                    Ok(conn) => {
                        let _ = conn.close().await;
                    }
                    Err(e) => {
                        assert!(!pg_required(), "PostgreSQL is required (KIZUNA_REQUIRE_PG=1) but unreachable at {base}: {e}");
                        eprintln!("PostgreSQL unreachable at {base} ({e}); this PostgreSQL test returns early");
                        return None;
                    }
                }
                let name = format!("kizuna_t_{}", uuid::Uuid::new_v4().simple());
                Some(TestDatabase {
                    config: DatabaseConfig {
                        backend: Backend::Postgres { url: format!("{base}/{name}") },
                        max_open_conns: 8,
                        create_database: true,
                        sqlite_busy_timeout: DatabaseConfig::DEFAULT_SQLITE_BUSY_TIMEOUT,
                    },
                    _dir: dir,
                    pg_name: Some(name),
                })
            }
        }
    }

    /// The `database.address` value and data directory a server would be started with.
    pub fn server_address(&self) -> (String, PathBuf) {
        let address = match &self.config.backend {
            Backend::Postgres { url } => url.clone(),
            Backend::Sqlite { .. } => String::new(),
        };
        (address, self._dir.path().to_path_buf())
    }

    /// The PostgreSQL database's name (None on SQLite).
    pub fn pg_database(&self) -> Option<&str> {
        self.pg_name.as_deref()
    }

    /// Drops the PostgreSQL database (call after every connection to it is closed).
    pub async fn cleanup(self) {
        if let Some(name) = &self.pg_name {
            let admin: PgConnectOptions = format!("{}/postgres", pg_base_url()).parse().expect("postgres URL");
            if let Ok(mut conn) = admin.connect().await {
                let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await;
                let _ = conn.close().await;
            }
        }
    }
}

/// Defines a test that runs once on SQLite and once on PostgreSQL, each on a fresh database.
/// The body gets `$store: Store`.
#[macro_export]
macro_rules! store_test {
    ($name:ident, |$store:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run(kind: $crate::testing::TestBackend) {
                let Some(db) = $crate::testing::TestDatabase::new(kind).await else { return };
                let $store = $crate::Store::connect(&db.config).await.expect("open test database");
                $body
                $store.close().await;
                db.cleanup().await;
            }

            #[tokio::test]
            async fn sqlite() {
                run($crate::testing::TestBackend::Sqlite).await
            }

            #[tokio::test]
            async fn postgres() {
                run($crate::testing::TestBackend::Postgres).await
            }
        }
    };
}

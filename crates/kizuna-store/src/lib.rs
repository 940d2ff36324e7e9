//! Kizuna's storage layer: one set of queries served by embedded SQLite (the default) or
//! PostgreSQL, with built-in migrations. Corresponds to the SQL scattered through Nakama's
//! `core_*.go` files and to `nakama:migrate/sql`.
//!
//! Invariants:
//! - The PostgreSQL schema uses Nakama's table and column names and types, so a database created
//!   by Nakama can later be served. SQLite mirrors it (UUID → 16-byte BLOB, TIMESTAMPTZ → RFC 3339
//!   TEXT, JSONB → TEXT); see `migrations/README.md`.
//! - Queries are written once with `$N` parameters (both drivers accept them) and run on either
//!   backend through [`dispatch_read!`] and [`dispatch_write!`]: the same code is compiled for
//!   each backend. On SQLite both hand the body a connection held out of its pool (one writer,
//!   a set of readers), which saves sqlx's per-use release task and ping; writes are acknowledged
//!   after the group commit's shared fsync (`group_commit.rs`).
//! - Times are bound from Rust (never `now()` in SQL), so both backends store the same instants.
//! - Row types are plain structs; wire types never appear here.

mod db;
mod error;
mod group_commit;
pub mod friend;
pub mod group;
pub mod message;
pub mod multi;
pub mod notification;
pub mod session;
pub mod storage;
pub mod users;
pub mod wallet;
pub mod user_device;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_storage;
#[cfg(test)]
mod tests_faults;

pub use db::{epoch, now, Backend, DatabaseConfig, Store};
pub use error::StoreError;

/// Run a write: `$body` with `$conn` bound to the SQLite writer connection or the PostgreSQL pool
/// (a `db::WriterRef`); the body is compiled once per backend and must use `$conn` once. Once
/// the writer is given back, waits until the write is durable (SQLite group commit); a body that
/// returns early has written nothing, or commits and syncs itself. Exported only so that
/// `crate::` paths reach it; it names crate-private items and works inside this crate alone.
#[macro_export]
#[doc(hidden)]
macro_rules! dispatch_write {
    ($store:expr, $conn:ident => $body:expr) => {{
        let out = match $store.writer().await? {
            $crate::db::WriterRef::Sqlite(mut held) => {
                let $conn: &mut sqlx::SqliteConnection = held.as_mut().expect("writer() leaves a connection");
                $body
            }
            $crate::db::WriterRef::Postgres($conn) => $body,
        };
        $store.synced().await?;
        out
    }};
}

/// Run a read: `$body` with `$conn` bound to a borrowed SQLite reader connection or the
/// PostgreSQL pool (a `db::ReaderRef`); the body is compiled once per backend and must use
/// `$conn` once. Exported for the same reason as `dispatch_write!`.
#[macro_export]
#[doc(hidden)]
macro_rules! dispatch_read {
    ($store:expr, $conn:ident => $body:expr) => {
        match $store.read_conn().await? {
            $crate::db::ReaderRef::Sqlite(mut borrowed) => {
                let $conn: &mut sqlx::SqliteConnection = borrowed.conn();
                $body
            }
            $crate::db::ReaderRef::Postgres($conn) => $body,
        }
    };
}

/// Run `$body` with `$pool` bound to the concrete sqlx pool of `$handle` (a [`db::PoolRef`]).
/// The body is compiled once per backend, so it must only use APIs both drivers support.
#[macro_export]
#[doc(hidden)]
macro_rules! dispatch {
    ($handle:expr, $pool:ident => $body:expr) => {
        match $handle {
            $crate::db::PoolRef::Sqlite($pool) => $body,
            $crate::db::PoolRef::Postgres($pool) => $body,
        }
    };
}

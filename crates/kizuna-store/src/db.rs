//! Connection pools for both backends, database creation and migrations.

use std::{path::PathBuf, str::FromStr, time::Duration};

use chrono::{DateTime, SubsecRound, Utc};
use sqlx::{
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPool, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous},
    AssertSqlSafe, ConnectOptions, Connection,
};

use crate::StoreError;

static PG_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");
static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite { path: PathBuf },
    /// A PostgreSQL server, as a `postgres://` URL.
    Postgres { url: String },
}

/// What the server's `database.*` settings boil down to.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub backend: Backend,
    /// Upper bound on open connections (`database.max_open_conns`).
    pub max_open_conns: u32,
    /// Create a missing PostgreSQL database (as `nakama migrate up` does).
    pub create_database: bool,
    /// How long an SQLite statement waits for a write lock that another process holds
    /// (`database.sqlite_busy_timeout_ms`).
    pub sqlite_busy_timeout: Duration,
}

impl DatabaseConfig {
    /// The default SQLite busy timeout.
    pub const DEFAULT_SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
}

impl Backend {
    /// Interprets `database.address`: empty means SQLite at `sqlite_path`; a `postgres://` or
    /// `postgresql://` URL is used as given; otherwise Nakama's `user[:pass]@host[:port][/db]` form
    /// (database name defaults to `nakama`, as in Nakama).
    pub fn from_address(address: &str, sqlite_path: PathBuf) -> Result<Backend, String> {
        let address = address.trim();
        if address.is_empty() {
            return Ok(Backend::Sqlite { path: sqlite_path });
        }
        if let Some(path) = address.strip_prefix("sqlite://") {
            return Ok(Backend::Sqlite { path: PathBuf::from(path) });
        }
        if address.starts_with("postgres://") || address.starts_with("postgresql://") {
            return Ok(Backend::Postgres { url: address.to_owned() });
        }
        if !address.contains('@') {
            return Err(format!("database.address {address:?} is neither a URL nor user@host:port/db"));
        }
        let with_db = if address.contains('/') { address.to_owned() } else { format!("{address}/nakama") };
        Ok(Backend::Postgres { url: format!("postgres://{with_db}") })
    }

    /// A description safe to log (no password).
    pub fn describe(&self) -> String {
        match self {
            Backend::Sqlite { path } => format!("sqlite:{}", path.display()),
            Backend::Postgres { url } => match url.find('@') {
                Some(at) => {
                    let scheme_end = url.find("://").map(|i| i + 3).unwrap_or(0);
                    let user = url[scheme_end..at].split(':').next().unwrap_or("");
                    format!("{}{}@{}", &url[..scheme_end], user, &url[at + 1..])
                }
                None => url.clone(),
            },
        }
    }
}

#[derive(Clone)]
enum Pools {
    /// SQLite allows one writer at a time. A single writer connection serialises writes in the
    /// pool queue instead of failing with SQLITE_BUSY; readers use their own read-only pool and,
    /// in WAL mode, never wait for the writer.
    Sqlite {
        writer: SqlitePool,
        reader: SqlitePool,
        held: std::sync::Arc<tokio::sync::Mutex<Option<sqlx::pool::PoolConnection<sqlx::Sqlite>>>>,
        readers: std::sync::Arc<ReaderSet>,
    },
    Postgres(PgPool),
}

/// The SQLite reader connections, held out of their pool once taken: a read borrows one and puts
/// it back when done, without the pool's release task and ping (see [`WriterRef`]).
pub(crate) struct ReaderSet {
    pool: SqlitePool,
    idle: std::sync::Mutex<Vec<sqlx::pool::PoolConnection<sqlx::Sqlite>>>,
    /// One permit per connection the pool may open.
    permits: std::sync::Arc<tokio::sync::Semaphore>,
}

impl ReaderSet {
    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<sqlx::pool::PoolConnection<sqlx::Sqlite>>> {
        // A poisoned lock only means a panic elsewhere; the list itself is always consistent.
        self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A borrowed SQLite reader connection; back to its set when dropped.
pub(crate) struct ReaderGuard {
    conn: Option<sqlx::pool::PoolConnection<sqlx::Sqlite>>,
    set: std::sync::Arc<ReaderSet>,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl ReaderGuard {
    pub(crate) fn conn(&mut self) -> &mut sqlx::SqliteConnection {
        self.conn.as_mut().expect("present until dropped")
    }
}

impl Drop for ReaderGuard {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.set.idle().push(conn);
        }
    }
}

/// A reader of either backend, for [`crate::dispatch_read!`].
pub(crate) enum ReaderRef<'a> {
    Sqlite(ReaderGuard),
    Postgres(&'a PgPool),
}

/// The writer of either backend, for [`crate::dispatch_write!`]. On SQLite it is the one writer
/// connection, held out of its pool and handed from write to write under a mutex: taking it and
/// giving it back costs no pool round trips (sqlx pings every connection it gets back).
pub(crate) enum WriterRef<'a> {
    Sqlite(tokio::sync::MutexGuard<'a, Option<sqlx::pool::PoolConnection<sqlx::Sqlite>>>),
    Postgres(&'a PgPool),
}

/// A borrowed pool of either backend; see [`crate::dispatch!`].
#[doc(hidden)]
pub enum PoolRef<'a> {
    Sqlite(&'a SqlitePool),
    Postgres(&'a PgPool),
}

/// The handle to the database. Cheap to clone (the pools are reference-counted).
#[derive(Clone)]
pub struct Store {
    pools: Pools,
    backend: Backend,
    /// SQLite: writes are acknowledged after a shared fsync ([`crate::group_commit`]).
    group_commit: Option<std::sync::Arc<crate::group_commit::GroupCommit>>,
}

/// The current time at the precision both databases keep (microseconds).
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// The "unset" time Nakama stores instead of NULL.
pub fn epoch() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH
}

impl Store {
    /// Opens the database (creating the SQLite file or the PostgreSQL database when asked) and
    /// applies pending migrations.
    pub async fn connect(config: &DatabaseConfig) -> Result<Store, StoreError> {
        let store = Store::open(config).await?;
        store.migrate_up().await?;
        Ok(store)
    }

    /// Opens the database without migrating.
    pub async fn open(config: &DatabaseConfig) -> Result<Store, StoreError> {
        let mut group_commit = None;
        let pools = match &config.backend {
            Backend::Sqlite { path } => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| StoreError::Sqlx(sqlx::Error::Io(e)))?;
                }
                let base = SqliteConnectOptions::new()
                    .filename(path)
                    .foreign_keys(true)
                    .busy_timeout(config.sqlite_busy_timeout)
                    // FULL: an acknowledged write survives power loss, not just a crash. The writer
                    // commits with NORMAL instead and acknowledges after a shared fsync of the
                    // log (group commit), which keeps the same promise.
                    .synchronous(SqliteSynchronous::Full);
                let writer = SqlitePoolOptions::new()
                    .max_connections(1)
                    // No ping before each use (as for PostgreSQL below).
                    .test_before_acquire(false)
                    // The writer must come back clean from every use; see `sqlite_writer_is_clean`.
                    .after_release(|conn, _| Box::pin(sqlite_writer_is_clean(conn)))
                    .connect_with(
                        base.clone().create_if_missing(true).journal_mode(SqliteJournalMode::Wal).synchronous(SqliteSynchronous::Normal),
                    )
                    .await?;
                let reader = SqlitePoolOptions::new()
                    .max_connections(config.max_open_conns.clamp(1, 8))
                    .test_before_acquire(false)
                    .connect_with(base.read_only(true))
                    .await?;
                group_commit = Some(crate::group_commit::GroupCommit::start(path));
                let readers = std::sync::Arc::new(ReaderSet {
                    pool: reader.clone(),
                    idle: Default::default(),
                    permits: std::sync::Arc::new(tokio::sync::Semaphore::new(reader.options().get_max_connections() as usize)),
                });
                Pools::Sqlite { writer, reader, held: Default::default(), readers }
            }
            Backend::Postgres { url } => {
                let options = PgConnectOptions::from_str(url)?;
                if config.create_database {
                    create_pg_database_if_missing(&options).await?;
                }
                // sqlx pings a connection before handing it out (a full round trip to PostgreSQL
                // per query) unless told not to; a broken connection fails its query instead,
                // which the caller reports, and the pool replaces it. (It also pings on release;
                // that one cannot be turned off.)
                let pool = PgPoolOptions::new()
                    .max_connections(config.max_open_conns.max(1))
                    .test_before_acquire(false)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with(options)
                    .await?;
                Pools::Postgres(pool)
            }
        };
        Ok(Store { pools, backend: config.backend.clone(), group_commit })
    }

    /// Applies every pending migration.
    pub async fn migrate_up(&self) -> Result<(), StoreError> {
        match &self.pools {
            Pools::Sqlite { writer, .. } => SQLITE_MIGRATIONS.run(writer).await?,
            Pools::Postgres(pool) => PG_MIGRATIONS.run(pool).await?,
        }
        self.synced().await
    }

    /// Waits until the write this caller just committed is durable. Every write on the writer
    /// calls it before it is acknowledged: on SQLite it joins the group commit, on PostgreSQL
    /// the commit itself was durable.
    pub(crate) async fn synced(&self) -> Result<(), StoreError> {
        match &self.group_commit {
            Some(group) => group.synced().await,
            None => Ok(()),
        }
    }

    /// fsyncs the SQLite group commit has made (0 on PostgreSQL); for tests and metrics.
    pub fn group_commit_syncs(&self) -> u64 {
        self.group_commit.as_ref().map_or(0, |g| g.sync_count())
    }

    /// Lists every built-in migration with whether it has been applied (`kizuna migrate status`,
    /// on a store that has served no reads: it uses the reader pool directly).
    pub async fn migration_status(&self) -> Result<Vec<(i64, String, bool)>, StoreError> {
        let (migrator, exists_sql) = match &self.pools {
            Pools::Sqlite { .. } => {
                (&SQLITE_MIGRATIONS, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'")
            }
            Pools::Postgres(_) => (&PG_MIGRATIONS, "SELECT COUNT(*) FROM pg_tables WHERE tablename = '_sqlx_migrations'"),
        };
        let applied: Vec<i64> = crate::dispatch!(self.reader(), pool => {
            let (tables,): (i64,) = sqlx::query_as(exists_sql).fetch_one(pool).await?;
            if tables == 0 {
                Vec::new()
            } else {
                let rows: Vec<(i64,)> = sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success").fetch_all(pool).await?;
                rows.into_iter().map(|r| r.0).collect()
            }
        });
        Ok(migrator
            .iter()
            .map(|m| (m.version, m.description.to_string(), applied.contains(&m.version)))
            .collect())
    }

    /// One round trip to the database (readiness checks).
    pub async fn ping(&self) -> Result<(), StoreError> {
        crate::dispatch_read!(self, conn => { sqlx::query("SELECT 1").execute(conn).await?; });
        Ok(())
    }

    /// Whether this store is on PostgreSQL (some statements differ, e.g. `FOR UPDATE`).
    pub fn is_postgres(&self) -> bool {
        matches!(self.pools, Pools::Postgres(_))
    }

    /// Which backend this store uses.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// Closes every connection, waiting for in-flight queries. Called on graceful shutdown.
    pub async fn close(&self) {
        match &self.pools {
            Pools::Sqlite { writer, reader, held, readers } => {
                readers.idle().clear();
                reader.close().await;
                // The held connection goes back first: closing waits for every connection.
                held.lock().await.take();
                writer.close().await;
            }
            Pools::Postgres(pool) => pool.close().await,
        }
    }

    /// Runs one statement on the SQLite writer connection and returns the first column of its first
    /// row, if any (fault-injection tests: `PRAGMA max_page_count`). Not for PostgreSQL.
    #[cfg(any(test, feature = "testing"))]
    pub async fn sqlite_writer_query(&self, sql: &str) -> Result<Option<i64>, StoreError> {
        let WriterRef::Sqlite(mut held) = self.writer().await? else {
            return Err(StoreError::Sqlx(sqlx::Error::Configuration("not an SQLite store".into())));
        };
        let conn: &mut sqlx::SqliteConnection = held.as_mut().expect("writer() leaves a connection");
        let row: Option<(i64,)> = sqlx::query_as(AssertSqlSafe(sql.to_owned())).fetch_optional(conn).await?;
        Ok(row.map(|r| r.0))
    }

    /// The writer: on SQLite the writer connection, taken from its pool once and then held (and
    /// replaced when a write left it inside a transaction; see `sqlite_writer_is_clean`).
    pub(crate) async fn writer(&self) -> Result<WriterRef<'_>, StoreError> {
        match &self.pools {
            Pools::Sqlite { writer, held, .. } => {
                let mut guard = held.lock().await;
                if let Some(conn) = guard.as_mut()
                    && conn.is_in_transaction()
                {
                    // A write that ended early dropped its transaction; its rollback is queued on
                    // the connection's thread. A round trip lets it run, then look again.
                    let _ = conn.ping().await;
                    if conn.is_in_transaction() {
                        // Back to the pool, whose release check closes it.
                        guard.take();
                    }
                }
                if guard.is_none() {
                    *guard = Some(writer.acquire().await?);
                }
                Ok(WriterRef::Sqlite(guard))
            }
            Pools::Postgres(pool) => Ok(WriterRef::Postgres(pool)),
        }
    }

    /// A reader: on SQLite a connection borrowed from the held set (taken from the pool the
    /// first time), on PostgreSQL the pool.
    pub(crate) async fn read_conn(&self) -> Result<ReaderRef<'_>, StoreError> {
        match &self.pools {
            Pools::Sqlite { readers, .. } => {
                let permit = readers.permits.clone().acquire_owned().await.map_err(|_| StoreError::Sqlx(sqlx::Error::PoolClosed))?;
                let idle = readers.idle().pop();
                let conn = match idle {
                    Some(conn) => conn,
                    None => readers.pool.acquire().await?,
                };
                Ok(ReaderRef::Sqlite(ReaderGuard { conn: Some(conn), set: readers.clone(), _permit: permit }))
            }
            Pools::Postgres(pool) => Ok(ReaderRef::Postgres(pool)),
        }
    }

    /// The pool for read-only statements. Data reads go through [`Store::read_conn`]
    /// (`dispatch_read!`) instead: the held SQLite readers are checked out of this pool, so
    /// acquiring from it while they are all held would wait.
    pub(crate) fn reader(&self) -> PoolRef<'_> {
        match &self.pools {
            Pools::Sqlite { reader, .. } => PoolRef::Sqlite(reader),
            Pools::Postgres(pool) => PoolRef::Postgres(pool),
        }
    }
}

/// Whether the SQLite writer connection may serve the next write.
///
/// SQLite rolls a transaction back by itself on some errors (SQLITE_FULL, SQLITE_IOERR, ...);
/// sqlx does not notice, its `ROLLBACK` then fails and it keeps counting the transaction as open,
/// so its next `begin()` issues a `SAVEPOINT`, and a later `ROLLBACK TO` leaves a real transaction
/// open on the connection for good: writes after it are acknowledged but never committed. A
/// connection that sqlx believes is still inside a transaction when it comes back (see
/// [`Store::writer`]) is closed, SQLite rolls back whatever it held, and the pool opens a fresh
/// one.
async fn sqlite_writer_is_clean(conn: &mut sqlx::SqliteConnection) -> Result<bool, sqlx::Error> {
    let clean = !conn.is_in_transaction();
    if !clean {
        tracing::warn!("SQLite writer connection returned inside a transaction; replacing it");
    }
    Ok(clean)
}

/// Starts a write transaction. On SQLite it is `BEGIN IMMEDIATE`: the write lock is taken up
/// front, waiting up to the busy timeout for another process that holds it. A deferred `BEGIN`
/// that reads first and writes later fails at once with "database is locked" (SQLITE_BUSY
/// without the busy handler) when another connection committed in between.
pub(crate) trait BeginWrite<'c> {
    type Db: sqlx::Database;
    fn begin_write(self) -> impl std::future::Future<Output = Result<sqlx::Transaction<'c, Self::Db>, sqlx::Error>> + Send;
}

impl<'c> BeginWrite<'c> for &'c mut sqlx::SqliteConnection {
    type Db = sqlx::Sqlite;
    fn begin_write(self) -> impl std::future::Future<Output = Result<sqlx::Transaction<'c, sqlx::Sqlite>, sqlx::Error>> + Send {
        sqlx::Connection::begin_with(self, "BEGIN IMMEDIATE")
    }
}

impl<'c> BeginWrite<'c> for &'c PgPool {
    type Db = sqlx::Postgres;
    async fn begin_write(self) -> Result<sqlx::Transaction<'c, sqlx::Postgres>, sqlx::Error> {
        self.begin().await
    }
}

/// Creates the target database through the server's `postgres` database when it does not exist.
async fn create_pg_database_if_missing(options: &PgConnectOptions) -> Result<(), StoreError> {
    let Some(name) = options.get_database().map(str::to_owned) else { return Ok(()) };
    let mut admin = options.clone().database("postgres").connect().await?;
    let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&name)
        .fetch_optional(&mut admin)
        .await?;
    if exists.is_none() {
        let quoted = name.replace('"', "\"\"");
        match sqlx::query(AssertSqlSafe(format!("CREATE DATABASE \"{quoted}\""))).execute(&mut admin).await {
            Ok(_) => tracing::info!(database = %name, "created database"),
            Err(e) => {
                // 42P04 duplicate_database (or 23505 on the catalog index): another process
                // created it between our check and our CREATE, which is fine.
                let raced = matches!(&e, sqlx::Error::Database(d)
                    if matches!(d.code().as_deref(), Some("42P04") | Some("23505")));
                if !raced {
                    return Err(e.into());
                }
            }
        }
    }
    admin.close().await?;
    Ok(())
}

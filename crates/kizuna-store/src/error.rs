//! `StoreError`: what the SQL layer reports. Core maps it to client-facing errors; it never leaves
//! core.

/// A failed store operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A UNIQUE or PRIMARY KEY constraint rejected a write. Ask [`StoreError::is_unique_on`]
    /// which one.
    #[error("unique constraint violated: {0}")]
    Unique(String),
    /// A CHECK or length constraint rejected a value (over-long text, negative counters).
    #[error("constraint violated: {0}")]
    Check(String),
    /// Text PostgreSQL cannot store: a NUL character (22021), or `\u0000` in JSON (22P05).
    #[error("text not storable: {0}")]
    InvalidText(String),
    /// Anything else: connection, I/O, decoding.
    #[error(transparent)]
    Sqlx(sqlx::Error),
    /// Migration failure.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            // PostgreSQL names the constraint; SQLite only says "UNIQUE constraint failed:
            // table.column". Keep whichever we get and match on both forms.
            let what = db.constraint().map(str::to_owned).unwrap_or_else(|| db.message().to_owned());
            if db.is_unique_violation() {
                return StoreError::Unique(what);
            }
            if db.is_check_violation() {
                return StoreError::Check(what);
            }
            if matches!(db.code().as_deref(), Some("22021") | Some("22P05")) {
                return StoreError::InvalidText(db.message().to_owned());
            }
            // PostgreSQL reports an over-long VARCHAR as a data exception (22001), not a CHECK.
            if db.code().as_deref() == Some("22001") {
                return StoreError::Check(db.message().to_owned());
            }
        }
        StoreError::Sqlx(e)
    }
}

impl StoreError {
    /// Whether this is a unique violation on `table.column`. PostgreSQL's default constraint names
    /// are `<table>_<column>_key` and `<table>_pkey`; SQLite's message names `table.column`.
    pub fn is_unique_on(&self, table: &str, column: &str) -> bool {
        let StoreError::Unique(what) = self else { return false };
        what.contains(&format!("{table}.{column}"))
            || what.contains(&format!("{table}_{column}_key"))
            || (column == "id" && what == &format!("{table}_pkey"))
    }
}

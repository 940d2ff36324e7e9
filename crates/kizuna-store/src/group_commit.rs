//! Group commit for SQLite: many acknowledged writes share one fsync.
//!
//! The writer connection commits with `synchronous=NORMAL`: a commit appends its frames to the
//! write-ahead log (in the OS page cache) without syncing it. A write is acknowledged only after
//! [`GroupCommit::synced`] returns, which waits for an `fdatasync` of the WAL file that started
//! after the write committed. One sync task serves every waiter, so concurrent writes share an
//! fsync instead of paying one each; the promise is the same as `synchronous=FULL` (an
//! acknowledged write survives power loss). Checkpoints keep their own syncs (SQLite syncs the
//! WAL before copying it into the database file and the database file after).
//!
//! The WAL file is opened afresh for each sync: SQLite deletes and recreates it when the last
//! connection closes, and a file that was recreated also gets its directory synced, so its name
//! survives a crash.
//!
//! Unlike `synchronous=FULL`, another connection may read a commit before its fsync; the write
//! is not acknowledged until then, and a power cut in between loses it whole (never part of it).

use std::{
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

use tokio::sync::{mpsc, watch};

use crate::StoreError;

/// The shared state of one database's group commit.
pub(crate) struct GroupCommit {
    /// Commits made so far (each waiter takes the next number after its commit returned).
    commits: AtomicU64,
    /// Highest commit number covered by a finished sync, and the highest that a failed sync
    /// could not cover.
    synced: watch::Receiver<(u64, u64)>,
    /// Wakes the sync task; it ends when every handle is dropped.
    wake: mpsc::UnboundedSender<()>,
    /// fsyncs made (tests and metrics).
    syncs: Arc<AtomicU64>,
}

impl GroupCommit {
    /// Starts the sync task for the database file at `db_path`.
    pub(crate) fn start(db_path: &Path) -> Arc<GroupCommit> {
        let (wake, mut woken) = mpsc::unbounded_channel::<()>();
        let (report, synced) = watch::channel((0u64, 0u64));
        let syncs = Arc::new(AtomicU64::new(0));
        let group = Arc::new(GroupCommit { commits: AtomicU64::new(0), synced, wake, syncs: syncs.clone() });
        let wal = PathBuf::from(format!("{}-wal", db_path.display()));
        let dir = db_path.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
        let weak = Arc::downgrade(&group);
        tokio::spawn(async move {
            let mut wal_inode = None;
            while woken.recv().await.is_some() {
                // Everything woken so far is covered by the sync below.
                while woken.try_recv().is_ok() {}
                let Some(group) = weak.upgrade() else { break };
                let target = group.commits.load(Ordering::SeqCst);
                drop(group);
                let (wal, dir, known) = (wal.clone(), dir.clone(), wal_inode);
                let outcome = tokio::task::spawn_blocking(move || sync_wal(&wal, &dir, known)).await;
                syncs.fetch_add(1, Ordering::Relaxed);
                report.send_modify(|(ok, failed)| match outcome {
                    Ok(Ok(inode)) => {
                        wal_inode = inode;
                        *ok = (*ok).max(target);
                    }
                    Ok(Err(ref e)) => {
                        tracing::error!(error = %e, "fsync of the SQLite write-ahead log failed; the writes it covered are not acknowledged");
                        *failed = (*failed).max(target);
                    }
                    Err(ref e) => {
                        tracing::error!(error = %e, "the SQLite sync task failed");
                        *failed = (*failed).max(target);
                    }
                });
            }
        });
        group
    }

    /// Waits until the commit this caller just made is on disk.
    pub(crate) async fn synced(&self) -> Result<(), StoreError> {
        let mine = self.commits.fetch_add(1, Ordering::SeqCst) + 1;
        let mut synced = self.synced.clone();
        let _ = self.wake.send(());
        let outcome = synced.wait_for(|(ok, failed)| *ok >= mine || *failed >= mine).await.map(|s| *s);
        match outcome {
            Ok((ok, _)) if ok >= mine => Ok(()),
            _ => Err(StoreError::Sqlx(sqlx::Error::Io(std::io::Error::other("the write-ahead log could not be synced")))),
        }
    }

    /// fsyncs made so far.
    pub(crate) fn sync_count(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }
}

/// Syncs the WAL file (and its directory when the file is new since the last sync); returns the
/// file's inode, or `None` when there is no WAL (everything was checkpointed into the database
/// file, which SQLite synced).
fn sync_wal(wal: &Path, dir: &Path, known_inode: Option<u64>) -> std::io::Result<Option<u64>> {
    let file = match std::fs::File::open(wal) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    file.sync_data()?;
    let inode = file.metadata()?.ino();
    if known_inode != Some(inode) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(Some(inode))
}

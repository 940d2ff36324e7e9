//! One transaction for account updates, storage writes and deletes, and wallet changes (Nakama's
//! runtime `MultiUpdate`, which is not atomic upstream; here it is all or nothing).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    storage::{sorted_deletes, sorted_writes, StorageAck, StorageDelete, StorageReject, StorageWrite},
    users::AccountUpdate,
    wallet::{WalletChange, WalletReject, WalletUpdated},
    Store, StoreError,
};

/// Why a multi-update was refused; nothing of it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultiReject {
    Storage(StorageReject),
    StorageDelete,
    Wallet(WalletReject),
}

/// Everything a multi-update changes.
#[derive(Debug, Clone, Default)]
pub struct MultiUpdate {
    pub accounts: Vec<(Uuid, AccountUpdate)>,
    pub storage_writes: Vec<StorageWrite>,
    pub storage_deletes: Vec<StorageDelete>,
    pub wallets: Vec<WalletChange>,
    pub update_ledger: bool,
}

impl Store {
    /// Applies a [`MultiUpdate`] with the server's authority in one transaction.
    pub async fn multi_update(
        &self,
        update: &MultiUpdate,
        now: DateTime<Utc>,
    ) -> Result<Result<(Vec<StorageAck>, Vec<WalletUpdated>), MultiReject>, StoreError> {
        let writes = sorted_writes(&update.storage_writes);
        let deletes = sorted_deletes(&update.storage_deletes);
        let for_update = self.for_update();
        crate::dispatch_write!(self, pool => {
            let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
            let mut accounts: Vec<&(Uuid, AccountUpdate)> = update.accounts.iter().collect();
            accounts.sort_by_key(|(id, _)| *id);
            for (id, account) in accounts {
                if !account.is_empty() {
                    crate::account_update_in_tx!(tx, *id, account, now);
                }
            }
            let acks = match crate::storage_write_in_tx!(tx, writes.iter().copied(), true, for_update, now) {
                Ok(acks) => acks,
                Err(r) => {
                    tx.rollback().await?;
                    return Ok(Err(MultiReject::Storage(r)));
                }
            };
            if crate::storage_delete_in_tx!(tx, deletes.iter().copied(), true).is_err() {
                tx.rollback().await?;
                return Ok(Err(MultiReject::StorageDelete));
            }
            let wallets = match crate::wallet_update_in_tx!(tx, update.wallets, update.update_ledger, for_update, now) {
                Ok(w) => w,
                Err(r) => {
                    tx.rollback().await?;
                    return Ok(Err(MultiReject::Wallet(r)));
                }
            };
            tx.commit().await?;
            Ok(Ok((acks, wallets)))
        })
    }
}

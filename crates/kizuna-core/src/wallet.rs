//! Wallets and the wallet ledger (Nakama `core_wallet.go`), and the all-or-nothing multi-update
//! (`core_multi.go`). Clients can only read wallets (`Account.wallet`); these functions are the
//! server's, for the runtime.

use std::collections::BTreeMap;

use kizuna_store::{
    multi::{MultiReject, MultiUpdate},
    storage::StorageAck,
    wallet::{LedgerRow, WalletChange, WalletUpdated},
};
use uuid::Uuid;

use crate::{error::StoreContext, paging, storage::is_json_object, Core, Error};

/// A ledger entry as the runtime sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerItem {
    pub id: Uuid,
    pub user_id: Uuid,
    pub changeset: String,
    pub metadata: String,
    pub create_time: i64,
    pub update_time: i64,
}

fn ledger_item(row: LedgerRow) -> LedgerItem {
    LedgerItem {
        id: row.id,
        user_id: row.user_id,
        changeset: row.changeset.get().to_owned(),
        metadata: row.metadata.get().to_owned(),
        create_time: row.create_time.timestamp(),
        update_time: row.update_time.timestamp(),
    }
}

fn negative(path: &str) -> Error {
    Error::invalid(format!("wallet update rejected negative value at path '{path}'"))
}

fn check_metadata(metadata: &str) -> Result<(), Error> {
    if !is_json_object(metadata) {
        return Err(Error::invalid("Metadata value must be JSON, if provided."));
    }
    Ok(())
}

impl Core {
    /// Updates several wallets at once: every change applies or none does (a currency going
    /// below zero rejects the whole batch). Unknown users are skipped.
    pub async fn wallets_update(&self, changes: Vec<WalletChange>, update_ledger: bool) -> Result<Vec<WalletUpdated>, Error> {
        for c in &changes {
            check_metadata(&c.metadata)?;
        }
        match self.store().wallet_update(&changes, update_ledger, kizuna_store::now()).await {
            Ok(Ok(results)) => Ok(results),
            Ok(Err(reject)) => Err(negative(&reject.path)),
            Err(e) => Err(Error::internal("Error updating wallet.", e)),
        }
    }

    /// Updates one wallet; returns (updated, previous).
    pub async fn wallet_update(
        &self,
        user_id: Uuid,
        changeset: BTreeMap<String, i64>,
        metadata: String,
        update_ledger: bool,
    ) -> Result<(BTreeMap<String, i64>, BTreeMap<String, i64>), Error> {
        let mut results = self.wallets_update(vec![WalletChange { user_id, changeset, metadata }], update_ledger).await?;
        match results.pop() {
            Some(r) => Ok((r.updated, r.previous)),
            None => Err(Error::NotFound("User not found.".into())),
        }
    }

    /// A user's wallet ledger, newest first, with an opaque cursor for the next page.
    pub async fn wallet_ledger_list(&self, user_id: Uuid, limit: usize, cursor: &str) -> Result<(Vec<LedgerItem>, String), Error> {
        let invalid = || Error::invalid("wallet ledger cursor invalid");
        let after = if cursor.is_empty() {
            None
        } else {
            let (user, micros, id): (Uuid, i64, Uuid) = paging::decode_cursor(cursor).ok_or_else(invalid)?;
            if user != user_id {
                return Err(invalid());
            }
            let t = chrono::DateTime::from_timestamp_micros(micros).ok_or_else(invalid)?;
            Some((t, id))
        };
        let limit = limit.clamp(1, 100);
        let mut rows = self.store().wallet_ledger_list(user_id, after, limit).await.or_internal("Error listing wallet ledger items.")?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = match (more, rows.last()) {
            (true, Some(last)) => paging::encode_cursor(&(user_id, last.create_time.timestamp_micros(), last.id)),
            _ => String::new(),
        };
        Ok((rows.into_iter().map(ledger_item).collect(), next))
    }

    /// Merges metadata into a ledger entry.
    pub async fn wallet_ledger_update(&self, id: Uuid, metadata: &str) -> Result<LedgerItem, Error> {
        check_metadata(metadata)?;
        self.store()
            .wallet_ledger_update(id, metadata, kizuna_store::now())
            .await
            .or_internal("Error updating wallet ledger item.")?
            .map(ledger_item)
            .ok_or(Error::NotFound("Wallet ledger item not found.".into()))
    }

    /// Account updates, storage writes/deletes and wallet changes in one transaction, with the
    /// server's authority. Nothing is written unless everything succeeds.
    pub async fn multi_update(&self, update: MultiUpdate) -> Result<(Vec<StorageAck>, Vec<WalletUpdated>), Error> {
        for w in &update.storage_writes {
            if !is_json_object(&w.value) {
                return Err(Error::invalid("Value must be a JSON object."));
            }
        }
        for c in &update.wallets {
            check_metadata(&c.metadata)?;
        }
        for (_, a) in &update.accounts {
            if let Some(m) = &a.metadata {
                check_metadata(m)?;
            }
        }
        match self.store().multi_update(&update, kizuna_store::now()).await {
            Ok(Ok(done)) => Ok(done),
            Ok(Err(MultiReject::Storage(r))) => Err(match r {
                kizuna_store::storage::StorageReject::Permission => Error::invalid("Storage write rejected - permission denied."),
                _ => Error::invalid("Storage write rejected - version check failed."),
            }),
            Ok(Err(MultiReject::StorageDelete)) => {
                Err(Error::invalid("Storage delete rejected - not found, version check failed, or permission denied."))
            }
            Ok(Err(MultiReject::Wallet(r))) => Err(negative(&r.path)),
            Err(e) if e.is_unique_on("users", "username") => Err(Error::AlreadyExists("Username is already in use.".into())),
            Err(e) => Err(Error::internal("Error running multi update.", e)),
        }
    }
}

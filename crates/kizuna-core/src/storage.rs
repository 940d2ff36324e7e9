//! The storage engine (Nakama `api_storage.go`, `core_storage.go`): JSON objects per
//! (collection, key, owner) with read/write permissions, versions and conditional writes.
//!
//! Client calls act as the caller and obey permissions; the `*_as_server` functions act with the
//! server's authority (no permission checks, any owner) for the runtime.

use kizuna_proto::api;
use kizuna_store::storage::{ListPosition, ListScope, StorageAck, StorageDelete, StorageReject, StorageRow, StorageWrite};
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{error::StoreContext, paging, timestamp, validate, Core, Error};

const BAD_IDS: &str = "Invalid collection or key value supplied. They must be set.";
const BAD_USER_ID: &str = "Invalid user ID - make sure user ID is a valid UUID.";
const BAD_CURSOR: &str = "Malformed cursor was used.";

/// The version of a value: lower-case hex MD5 of the value exactly as submitted.
pub fn version_of(value: &str) -> String {
    let digest = Md5::digest(value.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Nakama's "JSON object" test: valid JSON whose first non-space byte is `{`.
pub fn is_json_object(value: &str) -> bool {
    value.trim_start().starts_with('{') && serde_json::from_str::<&serde_json::value::RawValue>(value).is_ok()
}

/// A write with the server's authority (runtime `storage_write`).
#[derive(Debug, Clone)]
pub struct ServerStorageWrite {
    pub collection: String,
    pub key: String,
    /// `None` is the system owner (nil UUID).
    pub user_id: Option<Uuid>,
    pub value: String,
    pub version: String,
    pub permission_read: i32,
    pub permission_write: i32,
}

fn check_permissions(read: i32, write: i32) -> Result<(i16, i16), Error> {
    if !(0..=2).contains(&read) {
        return Err(Error::invalid("Invalid Read permission supplied. It must be either 0, 1 or 2."));
    }
    if !(0..=1).contains(&write) {
        return Err(Error::invalid("Invalid Write permission supplied. It must be either 0 or 1."));
    }
    Ok((read as i16, write as i16))
}

/// Validates one write (Nakama's order: ids and value present, read permission, write
/// permission, JSON object) and computes its version.
fn prepare_write(
    collection: String,
    key: String,
    owner: Uuid,
    value: String,
    condition: String,
    read: i32,
    write: i32,
) -> Result<StorageWrite, Error> {
    if collection.is_empty() || key.is_empty() || value.is_empty() {
        return Err(Error::invalid(BAD_IDS));
    }
    let (read, write) = check_permissions(read, write)?;
    if !is_json_object(&value) {
        return Err(Error::invalid("Value must be a JSON object."));
    }
    Ok(StorageWrite { new_version: version_of(&value), collection, key, user_id: owner, value, condition, read, write })
}

fn object_from_row(row: StorageRow) -> api::StorageObject {
    api::StorageObject {
        collection: row.collection,
        key: row.key,
        user_id: row.user_id.to_string(),
        value: row.value.get().to_owned(),
        version: row.version,
        permission_read: row.read.into(),
        permission_write: row.write.into(),
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
    }
}

fn ack_from(ack: StorageAck) -> api::StorageObjectAck {
    api::StorageObjectAck {
        collection: ack.collection,
        key: ack.key,
        version: ack.version,
        user_id: ack.user_id.to_string(),
        create_time: Some(timestamp(ack.create_time)),
        update_time: Some(timestamp(ack.update_time)),
    }
}

fn write_rejected(r: StorageReject) -> Error {
    match r {
        StorageReject::Permission => Error::invalid("Storage write rejected - permission denied."),
        _ => Error::invalid("Storage write rejected - version check failed."),
    }
}

const DELETE_REJECTED: &str = "Storage delete rejected - not found, version check failed, or permission denied.";

/// A listing cursor: where the last page ended, bound to the listing it came from so it cannot
/// be replayed against another collection or owner.
#[derive(Serialize, Deserialize, PartialEq)]
struct ListCursor {
    c: String,
    s: String,
    r: i16,
    k: String,
    u: Uuid,
}

fn scope_tag(scope: ListScope) -> String {
    match scope {
        ListScope::Public => "p".into(),
        ListScope::Own(u) => format!("o{u}"),
        ListScope::OthersPublic(u) => format!("x{u}"),
        ListScope::Any(Some(u)) => format!("a{u}"),
        ListScope::Any(None) => "a".into(),
    }
}

fn decode_cursor(cursor: &str, collection: &str, scope: ListScope) -> Result<Option<ListPosition>, Error> {
    if cursor.is_empty() {
        return Ok(None);
    }
    let c: ListCursor = paging::decode_cursor(cursor).ok_or_else(|| Error::invalid(BAD_CURSOR))?;
    if c.c != collection || c.s != scope_tag(scope) {
        return Err(Error::invalid(BAD_CURSOR));
    }
    Ok(Some(ListPosition { read: c.r, key: c.k, user_id: c.u }))
}

fn encode_cursor(collection: &str, scope: ListScope, row: &StorageRow) -> String {
    paging::encode_cursor(&ListCursor { c: collection.to_owned(), s: scope_tag(scope), r: row.read, k: row.key.clone(), u: row.user_id })
}

impl Core {
    /// `PUT /v2/storage` — WriteStorageObjects. The caller owns every object; all or nothing.
    pub async fn write_storage_objects(&self, caller: Uuid, req: api::WriteStorageObjectsRequest) -> Result<api::StorageObjectAcks, Error> {
        let ops = req
            .objects
            .into_iter()
            .map(|o| {
                let (read, write) = (o.permission_read.unwrap_or(1), o.permission_write.unwrap_or(1));
                prepare_write(o.collection, o.key, caller, o.value, o.version, read, write)
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let acks = self.write_batch(&ops, false).await?;
        Ok(api::StorageObjectAcks { acks })
    }

    /// Writes with the server's authority: any owner, any permissions, no permission checks.
    pub async fn storage_write_as_server(&self, writes: Vec<ServerStorageWrite>) -> Result<api::StorageObjectAcks, Error> {
        let ops = writes
            .into_iter()
            .map(|w| {
                let owner = w.user_id.unwrap_or(Uuid::nil());
                prepare_write(w.collection, w.key, owner, w.value, w.version, w.permission_read, w.permission_write)
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let acks = self.write_batch(&ops, true).await?;
        Ok(api::StorageObjectAcks { acks })
    }

    async fn write_batch(&self, ops: &[StorageWrite], authoritative: bool) -> Result<Vec<api::StorageObjectAck>, Error> {
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        for op in ops {
            validate::reject_nul(&[&op.collection, &op.key, &op.value])?;
        }
        match self.store().storage_write(ops, authoritative, kizuna_store::now()).await {
            Ok(Ok(acks)) => Ok(acks.into_iter().map(ack_from).collect()),
            Ok(Err(reject)) => Err(write_rejected(reject)),
            Err(e) => Err(Error::internal("Error writing storage objects.", e)),
        }
    }

    /// `POST /v2/storage` — ReadStorageObjects. Unreadable and missing objects are omitted.
    pub async fn read_storage_objects(&self, caller: Uuid, req: api::ReadStorageObjectsRequest) -> Result<api::StorageObjects, Error> {
        self.read_objects(Some(caller), req.object_ids).await
    }

    /// Reads with the server's authority.
    pub async fn storage_read_as_server(&self, ids: Vec<api::ReadStorageObjectId>) -> Result<api::StorageObjects, Error> {
        self.read_objects(None, ids).await
    }

    async fn read_objects(&self, caller: Option<Uuid>, ids: Vec<api::ReadStorageObjectId>) -> Result<api::StorageObjects, Error> {
        for id in &ids {
            validate::reject_nul(&[&id.collection, &id.key])?;
        }
        let mut keys = Vec::with_capacity(ids.len());
        for id in ids {
            if id.collection.is_empty() || id.key.is_empty() {
                return Err(Error::invalid(BAD_IDS));
            }
            let owner = if id.user_id.is_empty() {
                Uuid::nil()
            } else {
                match Uuid::parse_str(&id.user_id) {
                    Ok(u) if !u.is_nil() => u,
                    _ => return Err(Error::invalid(BAD_USER_ID)),
                }
            };
            keys.push((id.collection, id.key, owner));
        }
        let rows = self.store().storage_read(&keys, caller).await.or_internal("Error reading storage objects.")?;
        Ok(api::StorageObjects { objects: rows.into_iter().map(object_from_row).collect() })
    }

    /// `GET /v2/storage/{collection}[/{user_id}]` — ListStorageObjects.
    pub async fn list_storage_objects(
        &self,
        caller: Uuid,
        collection: &str,
        user_id: &str,
        limit: Option<i32>,
        cursor: &str,
    ) -> Result<api::StorageObjectList, Error> {
        // Nakama checks the limit before the user id.
        paging::page_limit(limit)?;
        let owner = if user_id.is_empty() {
            None
        } else {
            Some(Uuid::parse_str(user_id).map_err(|_| Error::invalid(BAD_USER_ID))?)
        };
        let scope = match owner {
            None => ListScope::Public,
            Some(u) if u == caller => ListScope::Own(u),
            Some(u) => ListScope::OthersPublic(u),
        };
        self.list_objects(collection, scope, limit, cursor).await
    }

    /// Lists with the server's authority: every object of `user_id` (or of every owner).
    pub async fn storage_list_as_server(
        &self,
        collection: &str,
        user_id: Option<Uuid>,
        limit: Option<i32>,
        cursor: &str,
    ) -> Result<api::StorageObjectList, Error> {
        self.list_objects(collection, ListScope::Any(user_id), limit, cursor).await
    }

    async fn list_objects(&self, collection: &str, scope: ListScope, limit: Option<i32>, cursor: &str) -> Result<api::StorageObjectList, Error> {
        let limit = paging::page_limit(limit)?;
        validate::reject_nul(&[collection])?;
        let after = decode_cursor(cursor, collection, scope)?;
        let mut rows = self
            .store()
            .storage_list(collection, scope, after.as_ref(), limit)
            .await
            .or_internal("Error listing storage objects.")?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let mut next = match (more, rows.last()) {
            (true, Some(last)) => encode_cursor(collection, scope, last),
            _ => String::new(),
        };
        if next == cursor {
            next.clear();
        }
        Ok(api::StorageObjectList { objects: rows.into_iter().map(object_from_row).collect(), cursor: next })
    }

    /// `PUT /v2/storage/delete` — DeleteStorageObjects. All or nothing.
    pub async fn delete_storage_objects(&self, caller: Uuid, req: api::DeleteStorageObjectsRequest) -> Result<(), Error> {
        let mut ops = Vec::with_capacity(req.object_ids.len());
        for id in req.object_ids {
            if id.collection.is_empty() || id.key.is_empty() {
                return Err(Error::invalid(BAD_IDS));
            }
            ops.push(StorageDelete { collection: id.collection, key: id.key, user_id: caller, version: id.version });
        }
        self.delete_batch(&ops, false).await
    }

    /// Deletes with the server's authority; a missing object without a version is a no-op.
    pub async fn storage_delete_as_server(&self, ops: Vec<StorageDelete>) -> Result<(), Error> {
        for op in &ops {
            if op.collection.is_empty() || op.key.is_empty() {
                return Err(Error::invalid(BAD_IDS));
            }
        }
        self.delete_batch(&ops, true).await
    }

    async fn delete_batch(&self, ops: &[StorageDelete], authoritative: bool) -> Result<(), Error> {
        if ops.is_empty() {
            return Ok(());
        }
        for op in ops {
            validate::reject_nul(&[&op.collection, &op.key, &op.version])?;
        }
        match self.store().storage_delete(ops, authoritative).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Error::invalid(DELETE_REJECTED)),
            Err(e) => Err(Error::internal("Error deleting storage objects.", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_is_md5_hex_of_the_submitted_text() {
        assert_eq!(version_of("{}"), "99914b932bd37a50b983c5e7c90ae93b");
        assert_ne!(version_of(r#"{"a":1}"#), version_of(r#"{"a": 1}"#));
    }

    #[test]
    fn json_object_rule_matches_nakama() {
        assert!(is_json_object(r#" {"a":1}"#));
        for bad in ["[1]", "\"s\"", "12", "{", "", "null", "{} {}"] {
            assert!(!is_json_object(bad), "{bad}");
        }
    }

    #[test]
    fn cursors_are_bound_to_their_listing() {
        let row = StorageRow {
            collection: "c".into(),
            key: "k".into(),
            user_id: Uuid::nil(),
            value: serde_json::value::RawValue::from_string("{}".into()).unwrap(),
            version: String::new(),
            read: 2,
            write: 1,
            create_time: kizuna_store::epoch(),
            update_time: kizuna_store::epoch(),
        };
        let cursor = encode_cursor("c", ListScope::Public, &row);
        assert_eq!(decode_cursor(&cursor, "c", ListScope::Public).unwrap().unwrap().key, "k");
        for (collection, scope) in [("other", ListScope::Public), ("c", ListScope::Own(Uuid::nil()))] {
            assert_eq!(decode_cursor(&cursor, collection, scope).unwrap_err().message(), BAD_CURSOR);
        }
        assert_eq!(decode_cursor("!!!", "c", ListScope::Public).unwrap_err().message(), BAD_CURSOR);
        assert_eq!(decode_cursor("e30", "c", ListScope::Public).unwrap_err().message(), BAD_CURSOR);
    }
}

//! What every listing shares: opaque cursors and the page-size rule.
//!
//! A cursor is URL-safe base64 (no padding) of a small JSON value. Clients echo cursors back
//! unchanged; anything that does not decode to the expected shape is the caller's "bad cursor"
//! error. Each listing puts enough in its cursor to reject one taken from another listing.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde::{de::DeserializeOwned, Serialize};

use crate::Error;

/// Encodes a cursor value.
pub(crate) fn encode_cursor<T: Serialize>(value: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("cursor values serialize"))
}

/// Decodes a cursor value; `None` for anything malformed.
pub(crate) fn decode_cursor<T: DeserializeOwned>(cursor: &str) -> Option<T> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The page size of a list call whose `limit` wrapper defaults to 1 and must be 1..=100 (storage
/// objects, notifications, channel messages, groups).
pub(crate) fn page_limit(limit: Option<i32>) -> Result<usize, Error> {
    limit_or(limit, 1, 100)
}

/// The page size of a list call: `default` without a `limit`, else it must be 1..=`max`.
pub(crate) fn limit_or(limit: Option<i32>, default: usize, max: i32) -> Result<usize, Error> {
    match limit {
        None => Ok(default),
        Some(l) if (1..=max).contains(&l) => Ok(l as usize),
        Some(_) => Err(Error::invalid(format!("Invalid limit - limit must be between 1 and {max}."))),
    }
}

/// Decodes an edge listing cursor (state, position) of friends or group memberships; it must
/// match the state filter.
pub(crate) fn decode_edge_cursor(cursor: &str, state: Option<i16>) -> Result<Option<(i16, i64)>, Error> {
    if cursor.is_empty() {
        return Ok(None);
    }
    let bad = || Error::invalid("Cursor is invalid.");
    let (s, position): (i16, i64) = decode_cursor(cursor).ok_or_else(bad)?;
    if state.is_some_and(|f| f != s) {
        return Err(bad());
    }
    Ok(Some((s, position)))
}

/// Cuts a `limit + 1` page to `limit` rows; the cursor is the (state, position) of the first row
/// not returned.
pub(crate) fn next_edge_cursor<T>(rows: &mut Vec<T>, limit: usize, key: impl Fn(&T) -> (i16, i64)) -> String {
    if rows.len() > limit {
        let next = key(&rows[limit]);
        rows.truncate(limit);
        encode_cursor(&next)
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = encode_cursor(&(5i64, "k"));
        assert_eq!(decode_cursor::<(i64, String)>(&c), Some((5, "k".to_owned())));
        assert_eq!(decode_cursor::<(i64, String)>("%%%"), None);
        assert_eq!(decode_cursor::<(i64, String)>(&encode_cursor(&"other shape")), None);
    }

    #[test]
    fn page_limit_defaults_to_one_and_allows_1_to_100() {
        assert_eq!(page_limit(None).unwrap(), 1);
        assert_eq!(page_limit(Some(100)).unwrap(), 100);
        for bad in [0, 101, -1] {
            assert_eq!(page_limit(Some(bad)).unwrap_err().code(), 3);
        }
        assert_eq!(limit_or(None, 1000, 1000).unwrap(), 1000);
        assert_eq!(limit_or(Some(1001), 1000, 1000).unwrap_err().message(), "Invalid limit - limit must be between 1 and 1000.");
    }
}

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
/// objects, notifications, channel messages, ...).
pub(crate) fn page_limit(limit: Option<i32>) -> Result<usize, Error> {
    match limit {
        None => Ok(1),
        Some(l) if (1..=100).contains(&l) => Ok(l as usize),
        Some(_) => Err(Error::invalid("Invalid limit - limit must be between 1 and 100.")),
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
    }
}

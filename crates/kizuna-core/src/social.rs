//! Checks of social identities that need no call to the provider (Nakama `social/social.go`).
//! Providers verified over the network (Apple, Facebook, Google, Game Center, Steam) are not
//! built yet.

use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;

/// The payload of a Facebook Instant Games `signedPlayerInfo`. Other members are ignored; a
/// member of the wrong type makes the payload invalid (Go's `encoding/json`).
#[derive(Deserialize)]
struct PlayerInfo {
    #[serde(default)]
    algorithm: Option<String>,
    #[serde(default)]
    player_id: Option<String>,
    #[allow(dead_code)]
    #[serde(default)]
    request_payload: Option<String>,
    #[allow(dead_code)]
    #[serde(default)]
    issued_at: Option<i64>,
}

/// URL-safe base64 without padding, tolerant of stray trailing bits (Go's `RawURLEncoding`).
fn raw_url_base64(segment: &str) -> Result<Vec<u8>, String> {
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        base64::engine::GeneralPurposeConfig::new()
            .with_encode_padding(false)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone)
            .with_decode_allow_trailing_bits(true),
    );
    engine.decode(segment).map_err(|e| e.to_string())
}

/// Whether `signature` is the HMAC (with digest `$digest`) of `message` under `key`.
macro_rules! hmac_matches {
    ($digest:ty, $key:expr, $message:expr, $signature:expr) => {
        match <Hmac<$digest> as Mac>::new_from_slice($key) {
            Ok(mut mac) => {
                mac.update($message);
                mac.verify_slice($signature).is_ok()
            }
            Err(_) => false,
        }
    };
}

/// The player id of a Facebook Instant Games `signedPlayerInfo` (`<signature>.<payload>`, both
/// URL-safe base64): the payload's `algorithm` must be an HMAC one (`HS256`, `HS384`, `HS512`, or
/// Facebook's `HMAC-SHA256`) and the signature that HMAC of the encoded payload under the app
/// secret (which may be empty, as in Nakama).
pub fn facebook_instant_game_id(signed_player_info: &str, app_secret: &str) -> Result<String, String> {
    let parts: Vec<&str> = signed_player_info.split('.').collect();
    let [signature, payload] = parts[..] else { return Err("malformed signedPlayerInfo".into()) };
    let info: PlayerInfo = serde_json::from_slice(&raw_url_base64(payload)?).map_err(|e| e.to_string())?;
    let signature = raw_url_base64(signature).map_err(|e| format!("failed to decode signature: {e}"))?;
    let (key, message) = (app_secret.as_bytes(), payload.as_bytes());
    let valid = match info.algorithm.as_deref().unwrap_or("") {
        "HS256" | "HMAC-SHA256" => hmac_matches!(sha2::Sha256, key, message, &signature),
        "HS384" => hmac_matches!(sha2::Sha384, key, message, &signature),
        "HS512" => hmac_matches!(sha2::Sha512, key, message, &signature),
        _ => return Err("invalid signing method".into()),
    };
    if !valid {
        return Err("signature is invalid".into());
    }
    Ok(info.player_id.unwrap_or_default())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Signs a payload as Facebook does (used by tests elsewhere too).
    pub(crate) fn sign(payload: &serde_json::Value, secret: &str) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let encoded = b64.encode(payload.to_string());
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(encoded.as_bytes());
        format!("{}.{}", b64.encode(mac.finalize().into_bytes()), encoded)
    }

    #[test]
    fn signed_player_info_is_checked_like_nakama() {
        let payload = serde_json::json!({"algorithm": "HMAC-SHA256", "player_id": "p1", "issued_at": 1700000000, "extra": true});
        let signed = sign(&payload, "secret");
        assert_eq!(facebook_instant_game_id(&signed, "secret").as_deref(), Ok("p1"));
        assert!(facebook_instant_game_id(&signed, "other").is_err(), "wrong secret");
        assert!(facebook_instant_game_id(&format!("{signed}.x"), "secret").is_err(), "three parts");
        assert!(facebook_instant_game_id("nodot", "secret").is_err());
        let (sig, body) = signed.split_once('.').unwrap();
        assert!(facebook_instant_game_id(&format!("{sig}=.{body}"), "secret").is_err(), "padding is not raw base64");
        // HS256 names the same algorithm; an asymmetric one cannot be verified with a secret.
        let hs = serde_json::json!({"algorithm": "HS256", "player_id": "p2"});
        assert_eq!(facebook_instant_game_id(&sign(&hs, ""), "").as_deref(), Ok("p2"), "an empty secret is a key too");
        let rs = serde_json::json!({"algorithm": "RS256", "player_id": "p3"});
        assert!(facebook_instant_game_id(&sign(&rs, "secret"), "secret").is_err());
        let bad_type = serde_json::json!({"algorithm": "HS256", "player_id": "p4", "issued_at": "yesterday"});
        assert!(facebook_instant_game_id(&sign(&bad_type, "secret"), "secret").is_err());
    }
}

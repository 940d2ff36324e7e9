//! Session signing keys that nobody configured. Nakama starts with its well-known defaults
//! (`defaultencryptionkey`, `defaultrefreshencryptionkey`), with which anyone can mint a token for
//! any user. Kizuna instead generates random keys on first start and keeps them in
//! `<data_dir>/session_keys.json` (mode 0600), so tokens stay valid across restarts. A key set in
//! the configuration is used as given, with the start-up warning when it is a default.

use std::{io::Write, path::Path};

use anyhow::Context;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::Config;

/// The file in the data directory.
pub const SESSION_KEYS_FILE: &str = "session_keys.json";

#[derive(Serialize, Deserialize)]
struct StoredKeys {
    encryption_key: String,
    refresh_encryption_key: String,
}

/// Replaces the session keys left at their defaults with the generated ones (creating them on
/// first start). A file that exists but cannot be read stops the start: regenerating would
/// silently log every player out.
pub fn settle_session_keys(config: &mut Config) -> anyhow::Result<()> {
    let defaults = Config::defaults();
    let unset = |key: &str, value: &str, default: &str| !config.explicit.contains(key) && value == default;
    let session = unset("session.encryption_key", &config.session.encryption_key, &defaults.session.encryption_key);
    let refresh =
        unset("session.refresh_encryption_key", &config.session.refresh_encryption_key, &defaults.session.refresh_encryption_key);
    if !session && !refresh {
        return Ok(());
    }
    let path = config.data_dir.join(SESSION_KEYS_FILE);
    let keys = if path.exists() {
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?
    } else {
        let keys = StoredKeys { encryption_key: random_key(), refresh_encryption_key: random_key() };
        write_private(&path, &serde_json::to_vec_pretty(&keys)?)?;
        tracing::info!(path = %path.display(), "generated session keys (set session.encryption_key and session.refresh_encryption_key to share them between nodes)");
        keys
    };
    if session {
        config.session.encryption_key = keys.encryption_key;
    }
    if refresh {
        config.session.refresh_encryption_key = keys.refresh_encryption_key;
    }
    Ok(())
}

fn random_key() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates `path` readable by its owner only, durably (file and directory synced).
fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().context("data directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents)?;
    file.sync_all()?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

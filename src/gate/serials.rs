//! The host's memory of signed locks: per lock-signing key id, the highest lock serial this
//! host has enforced. `run --lock-key` refuses a signed lock with a lower serial, so an older
//! signed lock (one that still approved a surface since revoked) cannot be put back.
//!
//! The file is JSON, `{"version": 1, "serials": {"<key id>": N}}`, mode 0600, replaced
//! atomically (temp file, fsync, rename) under an exclusive lock on `<file>.lock`, so gates
//! starting at once never lose an update.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("a lock with serial {highest} signed by this key was already enforced here")]
    Rollback { highest: u64 },
    #[error("the state file is not valid: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    version: u64,
    serials: BTreeMap<String, u64>,
}

/// Records that `serial` (signed by `key_id`) is being enforced; refuses a serial below the
/// highest one recorded for that key.
pub fn advance(path: &Path, key_id: &str, serial: u64) -> Result<(), Error> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut lock_name = path.as_os_str().to_owned();
    lock_name.push(".lock");
    let guard = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&lock_name)?;
    guard.lock()?;
    let mut state: State = match std::fs::read(path) {
        Ok(b) => crate::json::from_slice_strict(&b).map_err(|e| Error::Corrupt(e.to_string()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => State {
            version: 1,
            serials: BTreeMap::new(),
        },
        Err(e) => return Err(e.into()),
    };
    if state.version != 1 {
        return Err(Error::Corrupt(format!(
            "version {} (this build reads 1)",
            state.version
        )));
    }
    let highest = state.serials.get(key_id).copied().unwrap_or(0);
    if serial < highest {
        return Err(Error::Rollback { highest });
    }
    if serial == highest && state.serials.contains_key(key_id) {
        return Ok(());
    }
    state.serials.insert(key_id.to_owned(), serial);
    let text = serde_json::to_string_pretty(&state).map_err(std::io::Error::other)? + "\n";
    crate::atomic::write_atomic(path, text.as_bytes(), crate::atomic::Options::PRIVATE)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileTypeExt;

    #[test]
    fn serials_only_go_up_per_key() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("state/lock-serials.json");
        advance(&f, "k1", 3).unwrap();
        advance(&f, "k1", 3).unwrap();
        advance(&f, "k1", 5).unwrap();
        assert!(matches!(
            advance(&f, "k1", 4),
            Err(Error::Rollback { highest: 5 })
        ));
        advance(&f, "k2", 1).unwrap(); // another key has its own order
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::write(&f, "{\"version\":1,\"serials\":{\"k1\":1,\"k1\":9}}").unwrap();
        assert!(matches!(advance(&f, "k1", 2), Err(Error::Corrupt(_))));
    }

    /// A state file that exists but cannot be read is an error, never "no serials yet": that
    /// would forget every serial enforced and let an older signed lock back in. (A socket:
    /// opening it fails with ENXIO even for root, and a rename would replace it, so only the
    /// NotFound check stands between it and a reset; cargo mutants found no test of it.)
    #[test]
    fn an_unreadable_state_file_is_an_error_not_a_fresh_start() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("lock-serials.json");
        let _socket = std::os::unix::net::UnixListener::bind(&f).unwrap();
        assert!(matches!(advance(&f, "k1", 1), Err(Error::Io(_))));
        assert!(std::fs::metadata(&f).unwrap().file_type().is_socket());
    }
}

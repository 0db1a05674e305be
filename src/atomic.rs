//! The one way mcpseal replaces a file it must never tear: lockfiles, keys, bundles, client
//! configs and the gate's state file all go through [`write_atomic`].
//!
//! A temp file is created in the target's own folder (so the rename cannot cross file
//! systems), written, given its mode, `fsync`ed, renamed over the target (or linked into place
//! without replacing anything, for `no_clobber`), and the folder is `fsync`ed. A crash at any
//! point leaves the old file or the new one, never a mix: the fault-injection test in
//! `tests/crash.rs` stops the process at each step and checks exactly that.

use std::io::Write;
use std::path::Path;

/// How to write.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// The new file's permission bits (set before the rename, so it is never visible wider).
    pub mode: u32,
    /// Refuse to replace an existing file (`AlreadyExists`).
    pub no_clobber: bool,
    /// The temp file's name prefix (it is left behind only by a crash).
    pub prefix: &'static str,
}

impl Options {
    /// A world-readable file (`0644`) that may be replaced.
    pub const PUBLIC: Options = Options {
        mode: 0o644,
        no_clobber: false,
        prefix: ".mcpseal-",
    };
    /// A private file (`0600`) that may be replaced.
    pub const PRIVATE: Options = Options {
        mode: 0o600,
        no_clobber: false,
        prefix: ".mcpseal-",
    };
}

/// The steps of a write, for fault injection (debug builds only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Written,
    Synced,
    Renamed,
}

impl Step {
    fn name(self) -> &'static str {
        match self {
            Step::Written => "written",
            Step::Synced => "synced",
            Step::Renamed => "renamed",
        }
    }
}

/// In debug builds, `MCPSEAL_FAULT=<step>` aborts the process at that step of every atomic
/// write (`written`, `synced`, `renamed`): how the crash test stands in for `kill -9`.
fn fault(step: Step) {
    if cfg!(debug_assertions) && std::env::var("MCPSEAL_FAULT").is_ok_and(|v| v == step.name()) {
        std::process::abort();
    }
}

/// Replaces (or, with `no_clobber`, creates) `path` with `bytes`; see the module docs.
pub fn write_atomic(path: &Path, bytes: &[u8], opts: Options) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // tempfile creates the file 0600 before any byte is written.
    let mut tmp = tempfile::Builder::new()
        .prefix(opts.prefix)
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(opts.mode))?;
    fault(Step::Written);
    tmp.as_file().sync_all()?;
    fault(Step::Synced);
    if opts.no_clobber {
        tmp.persist_noclobber(path).map_err(|e| e.error)?;
    } else {
        tmp.persist(path).map_err(|e| e.error)?;
    }
    fault(Step::Renamed);
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_with_the_mode_and_refuses_to_clobber() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("k");
        write_atomic(&f, b"one", Options::PRIVATE).unwrap();
        write_atomic(&f, b"two", Options::PRIVATE).unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"two");
        assert_eq!(
            std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let once = Options {
            no_clobber: true,
            ..Options::PRIVATE
        };
        let e = write_atomic(&f, b"three", once).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&f).unwrap(), b"two");
        assert_eq!(
            std::fs::read_dir(t.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }
}

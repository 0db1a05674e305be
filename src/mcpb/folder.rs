//! An installed MCP bundle's folder against the bundle it was unpacked from.
//!
//! A host unpacks a `.mcpb` into a folder and runs the server from there; the signature and
//! the pinned digest cover the bundle file, not that folder. `pin --mcpb X --mcpb-dir DIR`
//! lists the bundle's files (each regular file of the signed ZIP: its path and SHA-256) and
//! requires the folder to hold exactly those files with those contents — none missing, none
//! changed, none added (an added `node_modules/…` or `sitecustomize.py` runs as surely as an
//! edited one), no symlinks. The list's digest goes into the lock; `run` and `check` list the
//! folder again and refuse it when its digest differs, naming the files that differ.
//!
//! File modes are not compared (extractors set them differently); paths are, as `/`-separated
//! UTF-8, and a bundle entry that could land outside the folder (`..`, an absolute path, a
//! backslash, a drive letter) or two entries for one path are refused outright.

use std::path::Path;

use super::ManifestError;
use crate::digest::Digest;

/// Largest single file read out of a bundle.
pub const MAX_FILE: u64 = 1 << 30;

/// One file of a bundle or of its folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleFile {
    /// Relative, `/`-separated.
    pub path: String,
    pub digest: Digest,
}

/// Why a folder is not its bundle.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    #[error("{dir}: cannot be read: {why}")]
    Unreadable { dir: String, why: String },
    #[error("{dir} is not the unpacked bundle: {}", differences.join("; "))]
    Mismatch {
        dir: String,
        differences: Vec<String>,
    },
    #[error("the bundle cannot be unpacked safely: {0}")]
    Bundle(#[from] ManifestError),
}

impl FolderError {
    pub fn code(&self) -> &'static str {
        match self {
            FolderError::Unreadable { .. } => "mcpb-folder-unreadable",
            FolderError::Mismatch { .. } => "mcpb-folder-mismatch",
            FolderError::Bundle(e) => e.code(),
        }
    }
}

/// Whether a ZIP entry name is a safe relative path (no `..`, `.`, empty component, leading
/// `/`, backslash, or `C:`).
fn safe_path(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('/')
        && !name.contains('\\')
        && !name.contains(':')
        && name
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

/// The regular files of a bundle's ZIP (`zip`: the signed content, or the whole bundle file),
/// sorted by path.
pub fn bundle_files(zip: &[u8]) -> Result<Vec<BundleFile>, ManifestError> {
    let err = |e: crate::archive::ArchiveError| match e {
        crate::archive::ArchiveError::Malformed(m) => ManifestError::Zip(m),
        other => ManifestError::Zip(other.to_string()),
    };
    let mut out = Vec::new();
    for e in crate::archive::zip_entries(zip).map_err(err)? {
        let name = String::from_utf8(e.name.clone())
            .map_err(|_| ManifestError::Unsafe(format!("{:?} is not UTF-8", e.name_lossy())))?;
        if e.is_dir() {
            continue;
        }
        if !safe_path(&name) {
            return Err(ManifestError::Unsafe(format!(
                "the entry {name:?} would be unpacked outside its folder"
            )));
        }
        if e.unix_mode & 0o170000 == 0o120000 {
            return Err(ManifestError::Unsafe(format!(
                "the entry {name:?} is a symlink"
            )));
        }
        let data = crate::archive::zip_read(zip, &e, MAX_FILE).map_err(err)?;
        out.push(BundleFile {
            path: name,
            digest: Digest::of(&data),
        });
    }
    out.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    if let Some(w) = out.windows(2).find(|w| w[0].path == w[1].path) {
        return Err(ManifestError::Unsafe(format!(
            "two entries unpack to {:?}: which one a host writes last cannot be told",
            w[0].path
        )));
    }
    Ok(out)
}

/// SHA-256 over the sorted list, one `sha256:HEX "PATH"\n` line a file (the path as JSON).
pub fn files_digest(files: &[BundleFile]) -> Digest {
    let mut text = String::new();
    for f in files {
        text.push_str(&format!(
            "{} {}\n",
            f.digest,
            serde_json::Value::String(f.path.clone())
        ));
    }
    Digest::of(text.as_bytes())
}

/// The files of an unpacked folder, sorted; a symlink (or anything but a file or folder) is a
/// difference in itself.
pub fn folder_files(dir: &Path) -> Result<Vec<BundleFile>, FolderError> {
    let shown = dir.display().to_string();
    let entries = crate::digest::manifest(dir).map_err(|e| FolderError::Unreadable {
        dir: shown.clone(),
        why: e.to_string(),
    })?;
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        if let crate::digest::EntryKind::Symlink { target } = &e.kind {
            return Err(FolderError::Mismatch {
                dir: shown,
                differences: vec![format!("{} is a symlink (to {target:?})", e.path)],
            });
        }
        out.push(BundleFile {
            path: e.path,
            digest: e.digest,
        });
    }
    Ok(out)
}

/// What differs between a bundle's files and a folder's (at most `max` lines, then a count).
pub fn differences(bundle: &[BundleFile], folder: &[BundleFile], max: usize) -> Vec<String> {
    let want: std::collections::BTreeMap<&str, &Digest> = bundle
        .iter()
        .map(|f| (f.path.as_str(), &f.digest))
        .collect();
    let have: std::collections::BTreeMap<&str, &Digest> = folder
        .iter()
        .map(|f| (f.path.as_str(), &f.digest))
        .collect();
    let mut out = Vec::new();
    for (p, d) in &want {
        match have.get(p) {
            None => out.push(format!("{p} is missing")),
            Some(h) if h != d => out.push(format!("{p} was changed")),
            Some(_) => {}
        }
    }
    for p in have.keys().filter(|p| !want.contains_key(*p)) {
        out.push(format!("{p} was added"));
    }
    if out.len() > max {
        let more = out.len() - max;
        out.truncate(max);
        out.push(format!("and {more} more"));
    }
    out
}

/// Checks `dir` against a bundle's files (pin: the list just read from the bundle).
pub fn check_against(dir: &Path, bundle: &[BundleFile]) -> Result<(), FolderError> {
    let folder = folder_files(dir)?;
    if folder == bundle {
        return Ok(());
    }
    Err(FolderError::Mismatch {
        dir: dir.display().to_string(),
        differences: differences(bundle, &folder, 5),
    })
}

/// Checks `dir` against the recorded list digest (run, check). On a difference, `bundle` (the
/// pinned bundle's bytes, when they can be read) names the files that differ.
pub fn check_recorded(
    dir: &Path,
    recorded: &Digest,
    bundle: &dyn Fn() -> Option<Vec<u8>>,
) -> Result<(), FolderError> {
    let folder = folder_files(dir)?;
    if files_digest(&folder) == *recorded {
        return Ok(());
    }
    let differences = bundle()
        .and_then(|b| bundle_files(&b).ok())
        .map(|want| differences(&want, &folder, 5))
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| vec!["its files are not the pinned list".to_owned()]);
    Err(FolderError::Mismatch {
        dir: dir.display().to_string(),
        differences,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attack_entries_that_leave_the_folder_or_repeat_are_refused() {
        let zip = |files: &[(&str, &[u8])]| super::super::manifest::tests::zip(files);
        let ok =
            bundle_files(&zip(&[("server/index.js", b"x"), ("manifest.json", b"{}")])).unwrap();
        assert_eq!(ok[0].path, "manifest.json");
        for bad in [
            "../evil.js",
            "/etc/x",
            "a/../../b",
            "a\\b",
            "C:/x",
            "a//b",
            "./a",
        ] {
            assert!(
                bundle_files(&zip(&[(bad, b"x")])).is_err(),
                "{bad} must be refused"
            );
        }
        assert!(bundle_files(&zip(&[("a.js", b"1"), ("a.js", b"2")])).is_err());
    }

    #[test]
    fn a_folder_is_compared_file_by_file() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir(t.path().join("server")).unwrap();
        std::fs::write(t.path().join("server/index.js"), b"x").unwrap();
        let want = vec![BundleFile {
            path: "server/index.js".into(),
            digest: Digest::of(b"x"),
        }];
        assert!(check_against(t.path(), &want).is_ok());
        let d = files_digest(&want);
        assert!(check_recorded(t.path(), &d, &|| None).is_ok());
        std::fs::write(t.path().join("server/evil.js"), b"y").unwrap();
        let e = check_against(t.path(), &want).unwrap_err();
        assert_eq!(e.code(), "mcpb-folder-mismatch");
        assert!(e.to_string().contains("server/evil.js was added"), "{e}");
        assert!(check_recorded(t.path(), &d, &|| None).is_err());
        std::fs::remove_file(t.path().join("server/evil.js")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", t.path().join("link")).unwrap();
        assert!(check_against(t.path(), &want).is_err());
    }
}

//! Streaming SHA-256 of files and directory trees, and the [`Digest`] newtype.
//!
//! Text form everywhere: `sha256:<64 lowercase hex>`. A directory's digest is SHA-256 over its
//! manifest (see [`manifest`] and docs/formats.md), one line per regular file or symlink, sorted
//! by path; files are hashed in parallel. Symlinks are recorded, never followed, so a link loop
//! inside a tree cannot hang the walk. npm tarballs (`.tgz`) also get the npm
//! `sha512-<base64>` integrity string in the same pass.
//!
//! Nothing here prints; errors name the path that failed.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use base64::Engine;
use rayon::prelude::*;
use sha2::{Digest as _, Sha256, Sha512};

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// SHA-256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Digest(Sha256::digest(bytes).into())
    }
    /// Lowercase hex, no prefix.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
    /// Constant-time comparison, for places where one side is attacker-chosen.
    pub fn ct_eq(&self, other: &Digest) -> bool {
        self.0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A digest string was not `sha256:<64 lowercase hex>`.
#[derive(Debug, thiserror::Error)]
#[error("not a digest: expected `sha256:` and 64 lowercase hex digits, got {0:?}")]
pub struct ParseDigestError(String);

impl FromStr for Digest {
    type Err = ParseDigestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseDigestError(s.chars().take(80).collect());
        let hex_part = s.strip_prefix("sha256:").ok_or_else(err)?;
        if hex_part.len() != 64
            || !hex_part
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(err());
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(hex_part, &mut out).map_err(|_| err())?;
        Ok(Digest(out))
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Hashing a path failed.
#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "{path}: not a regular file, directory or symlink (sockets, FIFOs and devices cannot be digested)"
    )]
    UnsupportedType { path: PathBuf },
    #[error("{path}: the path is not valid UTF-8, so it has no portable manifest form")]
    NonUtf8Path { path: PathBuf },
}

impl DigestError {
    /// Stable kebab-case reason code.
    pub fn code(&self) -> &'static str {
        match self {
            DigestError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound => {
                "not-found"
            }
            DigestError::Io { .. } => "io-error",
            DigestError::UnsupportedType { .. } => "unsupported-file-type",
            DigestError::NonUtf8Path { .. } => "non-utf8-path",
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> DigestError + '_ {
    move |source| DigestError::Io {
        path: path.to_owned(),
        source,
    }
}

const BUF: usize = 1 << 20;

/// Bytes hashed by this process so far, across threads: what a progress display reads
/// (relaxed; one add per read, nothing else depends on it).
static HASHED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The number of bytes hashed by this process so far (for progress displays).
pub fn hashed_bytes() -> u64 {
    HASHED.load(std::sync::atomic::Ordering::Relaxed)
}

fn count(n: usize) {
    HASHED.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
}

/// SHA-256 of everything `r` yields.
pub fn sha256_reader(mut r: impl Read) -> io::Result<Digest> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; BUF];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Ok(Digest(h.finalize().into())),
            Ok(n) => {
                h.update(&buf[..n]);
                count(n);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Files up to this size are read in one call (no per-file 1 MiB buffer to zero).
const SMALL_FILE: u64 = 256 * 1024;

/// SHA-256 of a file's contents.
pub fn sha256_file(path: &Path) -> Result<Digest, DigestError> {
    let mut f = File::open(path).map_err(io_err(path))?;
    let len = f.metadata().map_err(io_err(path))?.len();
    if len <= SMALL_FILE {
        // Read to the end even if the file grew: the digest is of what was read.
        let mut buf = Vec::with_capacity(len as usize + 1);
        f.read_to_end(&mut buf).map_err(io_err(path))?;
        count(buf.len());
        return Ok(Digest::of(&buf));
    }
    sha256_reader(f).map_err(io_err(path))
}

/// SHA-256 and the npm `sha512-<base64>` integrity of a file, in one read.
pub fn sha256_and_npm_integrity(path: &Path) -> Result<(Digest, String), DigestError> {
    let mut f = File::open(path).map_err(io_err(path))?;
    let (mut a, mut b) = (Sha256::new(), Sha512::new());
    let mut buf = vec![0u8; BUF];
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                a.update(&buf[..n]);
                b.update(&buf[..n]);
                count(n);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(DigestError::Io {
                    path: path.to_owned(),
                    source: e,
                });
            }
        }
    }
    let integrity = format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(b.finalize())
    );
    Ok((Digest(a.finalize().into()), integrity))
}

/// One line of a directory manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestEntry {
    /// Relative path with `/` separators.
    pub path: String,
    pub kind: EntryKind,
    /// File contents' SHA-256, or the SHA-256 of a symlink's target string.
    pub digest: Digest,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    File { executable: bool },
    Symlink { target: String },
}

impl ManifestEntry {
    /// The manifest line, without the newline: `f|x|l <sha256:hex> <JSON path>[ <JSON target>]`.
    pub fn line(&self) -> String {
        let q = |s: &str| serde_json::Value::String(s.to_owned()).to_string();
        match &self.kind {
            EntryKind::File { executable } => {
                format!(
                    "{} {} {}",
                    if *executable { 'x' } else { 'f' },
                    self.digest,
                    q(&self.path)
                )
            }
            EntryKind::Symlink { target } => {
                format!("l {} {} {}", self.digest, q(&self.path), q(target))
            }
        }
    }
}

/// What a path digests to.
#[derive(Debug, Clone)]
pub struct PathDigest {
    pub path: PathBuf,
    pub digest: Digest,
    /// Present for directories: the manifest the digest covers.
    pub manifest: Option<Vec<ManifestEntry>>,
    /// Present for `.tgz` files: npm's `sha512-…` integrity string.
    pub npm_integrity: Option<String>,
}

/// Digests a file or a directory tree (following `path` itself if it is a symlink).
pub fn digest_path(path: &Path) -> Result<PathDigest, DigestError> {
    let meta = fs::metadata(path).map_err(io_err(path))?;
    if meta.is_dir() {
        let entries = manifest(path)?;
        Ok(PathDigest {
            path: path.to_owned(),
            digest: manifest_digest(&entries),
            manifest: Some(entries),
            npm_integrity: None,
        })
    } else if meta.is_file() {
        let is_tgz = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".tgz") || n.ends_with(".tar.gz"));
        let (digest, npm_integrity) = if is_tgz {
            let (d, i) = sha256_and_npm_integrity(path)?;
            (d, Some(i))
        } else {
            (sha256_file(path)?, None)
        };
        Ok(PathDigest {
            path: path.to_owned(),
            digest,
            manifest: None,
            npm_integrity,
        })
    } else {
        Err(DigestError::UnsupportedType {
            path: path.to_owned(),
        })
    }
}

/// SHA-256 over the manifest text (each line followed by `\n`).
pub fn manifest_digest(entries: &[ManifestEntry]) -> Digest {
    let mut h = Sha256::new();
    for e in entries {
        h.update(e.line().as_bytes());
        h.update(b"\n");
    }
    Digest(h.finalize().into())
}

/// The sorted manifest of a directory tree: every regular file and symlink below `root`.
pub fn manifest(root: &Path) -> Result<Vec<ManifestEntry>, DigestError> {
    enum Todo {
        File {
            abs: PathBuf,
            rel: String,
            executable: bool,
        },
        Link {
            rel: String,
            target: String,
        },
    }
    let mut todo = Vec::new();
    let mut stack = vec![(root.to_owned(), String::new())];
    while let Some((dir, rel_dir)) = stack.pop() {
        for entry in fs::read_dir(&dir).map_err(io_err(&dir))? {
            let entry = entry.map_err(io_err(&dir))?;
            let abs = entry.path();
            let name = entry
                .file_name()
                .into_string()
                .map_err(|_| DigestError::NonUtf8Path { path: abs.clone() })?;
            let rel = if rel_dir.is_empty() {
                name
            } else {
                format!("{rel_dir}/{name}")
            };
            let ft = entry.file_type().map_err(io_err(&abs))?;
            if ft.is_symlink() {
                let target = fs::read_link(&abs).map_err(io_err(&abs))?;
                let target = target
                    .into_os_string()
                    .into_string()
                    .map_err(|_| DigestError::NonUtf8Path { path: abs.clone() })?;
                todo.push(Todo::Link { rel, target });
            } else if ft.is_dir() {
                stack.push((abs, rel));
            } else if ft.is_file() {
                let executable = is_executable(&entry.metadata().map_err(io_err(&abs))?);
                todo.push(Todo::File {
                    abs,
                    rel,
                    executable,
                });
            } else {
                return Err(DigestError::UnsupportedType { path: abs });
            }
        }
    }
    let mut out: Vec<ManifestEntry> = todo
        .into_par_iter()
        .map(|t| match t {
            Todo::File {
                abs,
                rel,
                executable,
            } => Ok(ManifestEntry {
                digest: sha256_file(&abs)?,
                path: rel,
                kind: EntryKind::File { executable },
            }),
            Todo::Link { rel, target } => Ok(ManifestEntry {
                digest: Digest::of(target.as_bytes()),
                path: rel,
                kind: EntryKind::Symlink { target },
            }),
        })
        .collect::<Result<_, DigestError>>()?;
    out.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    Ok(out)
}

#[cfg(unix)]
fn is_executable(m: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    m.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_: &fs::Metadata) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_text_form_round_trips_and_rejects_bad_forms() {
        let d = Digest::of(b"abc");
        assert_eq!(
            d.to_string(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(d.to_string().parse::<Digest>().unwrap(), d);
        for bad in [
            "",
            "sha256:",
            "sha512:ab",
            "SHA256:ba78",
            &d.to_string().to_uppercase(),
            &d.hex(),
        ] {
            assert!(bad.parse::<Digest>().is_err(), "{bad}");
        }
    }

    #[test]
    fn tree_digest_covers_content_exec_bit_and_links_but_not_order() {
        let t = tempfile::tempdir().unwrap();
        fs::create_dir(t.path().join("sub")).unwrap();
        fs::write(t.path().join("a.txt"), b"a").unwrap();
        fs::write(t.path().join("sub/b.txt"), b"b").unwrap();
        std::os::unix::fs::symlink("../a.txt", t.path().join("sub/link")).unwrap();
        let d1 = digest_path(t.path()).unwrap();
        let lines: Vec<_> = d1
            .manifest
            .as_ref()
            .unwrap()
            .iter()
            .map(|e| e.line())
            .collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].ends_with("\"a.txt\""), "{lines:?}");
        assert!(lines[2].starts_with("l ") && lines[2].ends_with("\"sub/link\" \"../a.txt\""));

        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(t.path().join("a.txt"), fs::Permissions::from_mode(0o755)).unwrap();
        let d2 = digest_path(t.path()).unwrap();
        assert_ne!(d1.digest, d2.digest, "the exec bit is part of the digest");

        fs::write(t.path().join("sub/b.txt"), b"B").unwrap();
        assert_ne!(d2.digest, digest_path(t.path()).unwrap().digest);
    }

    #[test]
    fn symlink_loop_inside_a_tree_is_recorded_not_followed() {
        let t = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(".", t.path().join("loop")).unwrap();
        let d = digest_path(t.path()).unwrap();
        assert_eq!(d.manifest.unwrap().len(), 1);
    }

    #[test]
    fn npm_integrity_is_sha512_base64() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("pkg.tgz");
        fs::write(&p, b"abc").unwrap();
        let d = digest_path(&p).unwrap();
        assert_eq!(
            d.npm_integrity.unwrap(),
            "sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw=="
        );
    }
}

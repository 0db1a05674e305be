//! `manifest.json` of an MCP bundle, read out of the signed ZIP bytes.
//!
//! Only what `pin` needs: the bundle's name and version and the tools it declares. The ZIP is
//! read the way an installer does (end record → central directory → local header), with the
//! checks that keep two readers from seeing two different manifests: exactly one entry that
//! names `manifest.json` (also counting `./manifest.json`, `/manifest.json` and backslash
//! spellings), the local header naming the same file as the central directory, stored or
//! deflated data whose size and CRC-32 are the recorded ones, no ZIP64, and strict JSON
//! (duplicate keys refused). Nothing here reads files: callers hand in the bytes.

use serde_json::Value;

/// Largest `manifest.json` read (uncompressed).
pub const MAX_MANIFEST: u64 = 1 << 20;

/// What a bundle's manifest declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    /// The names in `tools`, in the manifest's order.
    pub tools: Vec<String>,
    /// `tools_generated: true`: the server may announce tools the manifest does not list.
    pub tools_generated: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("the bundle is not a ZIP archive mcpseal can read: {0}")]
    Zip(String),
    #[error("the bundle has no manifest.json")]
    Missing,
    #[error(
        "the bundle has {0} entries that name manifest.json: installers may read different ones"
    )]
    Ambiguous(usize),
    #[error("manifest.json is not usable: {0}")]
    Invalid(String),
    /// An entry that cannot be unpacked safely (outside the folder, twice, a symlink).
    #[error("{0}")]
    Unsafe(String),
}

impl ManifestError {
    pub fn code(&self) -> &'static str {
        match self {
            ManifestError::Zip(_) => "mcpb-not-zip",
            ManifestError::Missing => "mcpb-manifest-missing",
            ManifestError::Ambiguous(_) => "mcpb-manifest-ambiguous",
            ManifestError::Invalid(_) => "mcpb-manifest-invalid",
            ManifestError::Unsafe(_) => "mcpb-entry-unsafe",
        }
    }
}

/// Whether a ZIP entry name is `manifest.json` at the root, as any extractor might spell it.
fn names_manifest(name: &[u8]) -> bool {
    let s = String::from_utf8_lossy(name).replace('\\', "/");
    let mut t = s.as_str();
    loop {
        let before = t;
        t = t.trim_start_matches('/');
        t = t.strip_prefix("./").unwrap_or(t);
        if t == before {
            break;
        }
    }
    t.eq_ignore_ascii_case("manifest.json")
}

/// Reads and parses `manifest.json` from `zip` (the bundle's signed content: the archive
/// without the signature block).
pub fn read_manifest(zip: &[u8]) -> Result<Manifest, ManifestError> {
    let bytes = manifest_bytes(zip)?;
    let v = crate::json::parse_strict(&bytes).map_err(|e| ManifestError::Invalid(e.to_string()))?;
    let s = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| ManifestError::Invalid(format!("no string \"{k}\"")))
    };
    let mut tools = Vec::new();
    match v.get("tools") {
        None => {}
        Some(Value::Array(list)) => {
            for t in list {
                let n = t.get("name").and_then(Value::as_str).ok_or_else(|| {
                    ManifestError::Invalid("a tool in \"tools\" has no string \"name\"".into())
                })?;
                if tools.iter().any(|x| x == n) {
                    return Err(ManifestError::Invalid(format!(
                        "the tool {n:?} is declared twice"
                    )));
                }
                tools.push(n.to_owned());
            }
        }
        Some(_) => return Err(ManifestError::Invalid("\"tools\" is not a list".into())),
    }
    let tools_generated = match v.get("tools_generated") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ManifestError::Invalid(
                "\"tools_generated\" is not true or false".into(),
            ));
        }
    };
    Ok(Manifest {
        name: s("name")?,
        version: s("version")?,
        tools,
        tools_generated,
    })
}

fn manifest_bytes(zip: &[u8]) -> Result<Vec<u8>, ManifestError> {
    use crate::archive::ArchiveError;
    let (entry, data) =
        crate::archive::zip_unique(zip, "manifest.json", &names_manifest, MAX_MANIFEST).map_err(
            |e| match e {
                ArchiveError::Malformed(m) => ManifestError::Zip(m),
                ArchiveError::Missing(_) => ManifestError::Missing,
                ArchiveError::Ambiguous { count, .. } => ManifestError::Ambiguous(count),
                ArchiveError::Corrupt { why, .. } => ManifestError::Invalid(why),
            },
        )?;
    if entry.name != b"manifest.json" {
        return Err(ManifestError::Invalid(format!(
            "the manifest is stored as {:?}, not manifest.json at the archive's root",
            entry.name_lossy()
        )));
    }
    Ok(data)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A stored-only ZIP of `files` (name, bytes), written by hand.
    pub(crate) fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut cd = Vec::new();
        for (name, data) in files {
            let mut c = flate2::Crc::new();
            c.update(data);
            let off = out.len() as u32;
            out.extend_from_slice(b"PK\x03\x04\x14\0\0\0\0\0\0\0\0\0");
            out.extend_from_slice(&c.sum().to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(data);
            cd.extend_from_slice(b"PK\x01\x02\x14\0\x14\0\0\0\0\0\0\0\0\0");
            cd.extend_from_slice(&c.sum().to_le_bytes());
            cd.extend_from_slice(&(data.len() as u32).to_le_bytes());
            cd.extend_from_slice(&(data.len() as u32).to_le_bytes());
            cd.extend_from_slice(&(name.len() as u16).to_le_bytes());
            cd.extend_from_slice(&[0u8; 12]);
            cd.extend_from_slice(&off.to_le_bytes());
            cd.extend_from_slice(name.as_bytes());
        }
        let cd_off = out.len() as u32;
        out.extend_from_slice(&cd);
        out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
        out.extend_from_slice(&(files.len() as u16).to_le_bytes());
        out.extend_from_slice(&(files.len() as u16).to_le_bytes());
        out.extend_from_slice(&(cd.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_off.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    const M: &[u8] = br#"{"name": "hello", "version": "1.0.0", "tools": [{"name": "echo"}]}"#;

    #[test]
    fn a_manifest_is_read() {
        let m = read_manifest(&zip(&[("server/index.js", b"x"), ("manifest.json", M)])).unwrap();
        assert_eq!(m.tools, ["echo"]);
        assert_eq!((m.name.as_str(), m.version.as_str()), ("hello", "1.0.0"));
        assert!(!m.tools_generated);
    }

    /// A second manifest an extractor might pick instead of the first: refused, whichever
    /// spelling it uses.
    #[test]
    fn attack_two_manifests_are_refused() {
        let other = br#"{"name": "hello", "version": "1.0.0", "tools": []}"#;
        for second in [
            "manifest.json",
            "./manifest.json",
            "/manifest.json",
            "MANIFEST.JSON",
        ] {
            let e = read_manifest(&zip(&[("manifest.json", M), (second, other)])).unwrap_err();
            assert_eq!(e.code(), "mcpb-manifest-ambiguous", "{second}");
        }
        let e = read_manifest(&zip(&[("./manifest.json", M)])).unwrap_err();
        assert_eq!(e.code(), "mcpb-manifest-invalid");
        assert_eq!(
            read_manifest(&zip(&[("a.json", M)])).unwrap_err().code(),
            "mcpb-manifest-missing"
        );
    }

    #[test]
    fn attack_edited_bytes_and_duplicate_keys_are_refused() {
        let mut z = zip(&[("manifest.json", M)]);
        let i = memchr::memmem::find(&z, b"echo").unwrap();
        z[i] = b'E'; // the data no longer has its CRC
        assert_eq!(
            read_manifest(&z).unwrap_err().code(),
            "mcpb-manifest-invalid"
        );
        let dup = br#"{"name": "a", "version": "1", "tools": [], "tools": [{"name": "x"}]}"#;
        assert_eq!(
            read_manifest(&zip(&[("manifest.json", dup)]))
                .unwrap_err()
                .code(),
            "mcpb-manifest-invalid"
        );
        // Truncated archives and garbage never panic.
        let z = zip(&[("manifest.json", M)]);
        for n in 0..z.len() {
            let _ = read_manifest(&z[..n]);
        }
    }
}

//! `manifest.json` of an MCP bundle, read out of the signed ZIP bytes.
//!
//! Only what `pin` needs: the bundle's name and version and the tools it declares. The ZIP is
//! read the way an installer does (end record → central directory → local header), with the
//! checks that keep two readers from seeing two different manifests: exactly one entry that
//! names `manifest.json` (also counting `./manifest.json`, `/manifest.json` and backslash
//! spellings), the local header naming the same file as the central directory, stored or
//! deflated data whose size and CRC-32 are the recorded ones, no ZIP64, and strict JSON
//! (duplicate keys refused). Nothing here reads files: callers hand in the bytes.

use std::io::Read;

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
}

impl ManifestError {
    pub fn code(&self) -> &'static str {
        match self {
            ManifestError::Zip(_) => "mcpb-not-zip",
            ManifestError::Missing => "mcpb-manifest-missing",
            ManifestError::Ambiguous(_) => "mcpb-manifest-ambiguous",
            ManifestError::Invalid(_) => "mcpb-manifest-invalid",
        }
    }
}

fn u16_at(b: &[u8], at: usize) -> Result<u16, ManifestError> {
    b.get(at..at + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .ok_or_else(|| ManifestError::Zip(format!("a record is cut short at byte {at}")))
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, ManifestError> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| ManifestError::Zip(format!("a record is cut short at byte {at}")))
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
    let zerr = |m: &str| ManifestError::Zip(m.to_owned());
    let from = zip.len().saturating_sub(22 + 0xffff);
    let eocd = memchr::memmem::rfind(&zip[from..], b"PK\x05\x06")
        .map(|i| from + i)
        .ok_or_else(|| zerr("no end-of-central-directory record"))?;
    if memchr::memmem::find(&zip[from..], b"PK\x06\x07").is_some() {
        return Err(zerr("ZIP64 archives are not supported"));
    }
    let entries = u16_at(zip, eocd + 10)? as usize;
    let cd_size = u32_at(zip, eocd + 12)? as usize;
    let cd_off = u32_at(zip, eocd + 16)? as usize;
    if entries == 0xffff || cd_off == 0xffff_ffff || cd_size == 0xffff_ffff {
        return Err(zerr("ZIP64 archives are not supported"));
    }
    let cd_end = cd_off
        .checked_add(cd_size)
        .filter(|&e| e <= eocd)
        .ok_or_else(|| zerr("the central directory lies outside the archive"))?;
    let mut at = cd_off;
    let mut found = Vec::new();
    for _ in 0..entries {
        if zip.get(at..at + 4) != Some(b"PK\x01\x02") {
            return Err(zerr("a central directory record is malformed"));
        }
        let method = u16_at(zip, at + 10)?;
        let crc = u32_at(zip, at + 16)?;
        let csize = u32_at(zip, at + 20)? as usize;
        let usize_ = u32_at(zip, at + 24)? as u64;
        let n = u16_at(zip, at + 28)? as usize;
        let m = u16_at(zip, at + 30)? as usize;
        let k = u16_at(zip, at + 32)? as usize;
        let local = u32_at(zip, at + 42)? as usize;
        let name = zip
            .get(at + 46..at + 46 + n)
            .ok_or_else(|| zerr("a central directory name is cut short"))?;
        if names_manifest(name) {
            found.push((name.to_vec(), method, crc, csize, usize_, local));
        }
        at = at + 46 + n + m + k;
        if at > cd_end {
            return Err(zerr("the central directory overruns its size"));
        }
    }
    let (name, method, crc, csize, usize_, local) = match found.len() {
        0 => return Err(ManifestError::Missing),
        1 => found.remove(0),
        n => return Err(ManifestError::Ambiguous(n)),
    };
    if name != b"manifest.json" {
        return Err(ManifestError::Invalid(format!(
            "the manifest is stored as {:?}, not manifest.json at the archive's root",
            String::from_utf8_lossy(&name)
        )));
    }
    if zip.get(local..local + 4) != Some(b"PK\x03\x04") {
        return Err(zerr("the manifest's local header is missing"));
    }
    let ln = u16_at(zip, local + 26)? as usize;
    let lm = u16_at(zip, local + 28)? as usize;
    if zip.get(local + 30..local + 30 + ln) != Some(name.as_slice()) {
        return Err(ManifestError::Ambiguous(2));
    }
    let start = local + 30 + ln + lm;
    let data = start
        .checked_add(csize)
        .and_then(|end| zip.get(start..end))
        .ok_or_else(|| zerr("the manifest's data lies outside the archive"))?;
    if usize_ > MAX_MANIFEST {
        return Err(ManifestError::Invalid(format!(
            "{usize_} bytes is over the {MAX_MANIFEST}-byte limit"
        )));
    }
    let out = match method {
        0 => data.to_vec(),
        8 => {
            let mut out = Vec::new();
            flate2::read::DeflateDecoder::new(data)
                .take(MAX_MANIFEST + 1)
                .read_to_end(&mut out)
                .map_err(|e| ManifestError::Invalid(format!("cannot inflate: {e}")))?;
            out
        }
        m => {
            return Err(zerr(&format!(
                "the manifest is compressed with method {m} (only stored and deflate are read)"
            )));
        }
    };
    if out.len() as u64 != usize_ {
        return Err(ManifestError::Invalid(format!(
            "{} bytes, but the archive records {usize_}",
            out.len()
        )));
    }
    let mut c = flate2::Crc::new();
    c.update(&out);
    if c.sum() != crc {
        return Err(ManifestError::Invalid(
            "its CRC-32 is not the recorded one".into(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
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

//! Reading single files out of the archives packages ship as: ZIP (MCP bundles, wheels, zip
//! sdists) and gzip'd tar (npm tarballs, sdists), from bytes the caller hands in.
//!
//! Read the way an installer reads them, with the checks that keep two readers from seeing two
//! different files: for ZIP, end record → central directory → local header, the local header
//! naming the same file as the central directory, stored or deflated data whose size and
//! CRC-32 are the recorded ones, no ZIP64; for tar, ustar headers with their `prefix` field,
//! and the names pax (`x`) and GNU long-name (`L`) records give the next entry (what Python's
//! `tarfile` and npm's `tar` read). A file asked for must be there exactly once (an archive
//! with two entries for it is refused: extractors disagree on which one wins). Sizes are
//! capped before anything is inflated. Nothing here reads files or panics on any input.

use std::io::Read;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ArchiveError {
    /// Not an archive this reader can read (truncated, ZIP64, a bad record).
    #[error("{0}")]
    Malformed(String),
    /// No entry is the file asked for.
    #[error("no entry is {0}")]
    Missing(String),
    /// More than one entry could be taken for it.
    #[error("{count} entries could be taken for {what}: extractors may read different ones")]
    Ambiguous { what: String, count: usize },
    /// The entry's data is not what its records say (size, CRC-32, compression).
    #[error("{name}: {why}")]
    Corrupt { name: String, why: String },
}

/// Largest gzip'd tar inflated in memory.
pub const MAX_TAR: u64 = 256 << 20;

fn u16_at(b: &[u8], at: usize) -> Result<u16, ArchiveError> {
    b.get(at..at + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .ok_or_else(|| ArchiveError::Malformed(format!("a ZIP record is cut short at byte {at}")))
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, ArchiveError> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| ArchiveError::Malformed(format!("a ZIP record is cut short at byte {at}")))
}

/// One file of a ZIP's central directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipEntry {
    /// The name as the central directory records it (bytes; not necessarily UTF-8).
    pub name: Vec<u8>,
    method: u16,
    crc: u32,
    compressed: usize,
    /// The uncompressed size the central directory records.
    pub size: u64,
    local: usize,
    /// The external attributes' high 16 bits (the Unix mode, when the archiver wrote one).
    pub unix_mode: u32,
}

impl ZipEntry {
    /// The name, lossily as text.
    pub fn name_lossy(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }
    /// A folder entry (`dir/`).
    pub fn is_dir(&self) -> bool {
        self.name.ends_with(b"/")
    }
}

/// The central directory of `zip`, in its order.
pub fn zip_entries(zip: &[u8]) -> Result<Vec<ZipEntry>, ArchiveError> {
    let zerr = |m: &str| ArchiveError::Malformed(m.to_owned());
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
    let mut out = Vec::with_capacity(entries.min(4096));
    for _ in 0..entries {
        if zip.get(at..at + 4) != Some(b"PK\x01\x02") {
            return Err(zerr("a central directory record is malformed"));
        }
        let n = u16_at(zip, at + 28)? as usize;
        let m = u16_at(zip, at + 30)? as usize;
        let k = u16_at(zip, at + 32)? as usize;
        let name = zip
            .get(at + 46..at + 46 + n)
            .ok_or_else(|| zerr("a central directory name is cut short"))?;
        out.push(ZipEntry {
            name: name.to_vec(),
            method: u16_at(zip, at + 10)?,
            crc: u32_at(zip, at + 16)?,
            compressed: u32_at(zip, at + 20)? as usize,
            size: u64::from(u32_at(zip, at + 24)?),
            local: u32_at(zip, at + 42)? as usize,
            unix_mode: u32_at(zip, at + 38)? >> 16,
        });
        at = at + 46 + n + m + k;
        if at > cd_end {
            return Err(zerr("the central directory overruns its size"));
        }
    }
    Ok(out)
}

/// The data of `e` (an entry of [`zip_entries`]`(zip)`), at most `max` bytes uncompressed:
/// its local header must name the same file, its size and CRC-32 must be the recorded ones.
pub fn zip_read(zip: &[u8], e: &ZipEntry, max: u64) -> Result<Vec<u8>, ArchiveError> {
    let name = e.name_lossy();
    let corrupt = |why: String| ArchiveError::Corrupt {
        name: name.clone(),
        why,
    };
    if zip.get(e.local..e.local + 4) != Some(b"PK\x03\x04") {
        return Err(corrupt("its local header is missing".into()));
    }
    let ln = u16_at(zip, e.local + 26)? as usize;
    let lm = u16_at(zip, e.local + 28)? as usize;
    if zip.get(e.local + 30..e.local + 30 + ln) != Some(e.name.as_slice()) {
        // The local header names another file than the central directory: two readers
        // (one walking local headers, one the directory) would see two files.
        return Err(ArchiveError::Ambiguous {
            what: name.clone(),
            count: 2,
        });
    }
    let start = e.local + 30 + ln + lm;
    let data = start
        .checked_add(e.compressed)
        .and_then(|end| zip.get(start..end))
        .ok_or_else(|| corrupt("its data lies outside the archive".into()))?;
    if e.size > max {
        return Err(corrupt(format!(
            "{} bytes is over the {max}-byte limit",
            e.size
        )));
    }
    let out = match e.method {
        0 => data.to_vec(),
        8 => {
            let mut out = Vec::new();
            flate2::read::DeflateDecoder::new(data)
                .take(max + 1)
                .read_to_end(&mut out)
                .map_err(|err| corrupt(format!("cannot inflate: {err}")))?;
            out
        }
        m => {
            return Err(corrupt(format!(
                "compressed with method {m} (only stored and deflate are read)"
            )));
        }
    };
    if out.len() as u64 != e.size {
        return Err(corrupt(format!(
            "{} bytes, but the archive records {}",
            out.len(),
            e.size
        )));
    }
    let mut c = flate2::Crc::new();
    c.update(&out);
    if c.sum() != e.crc {
        return Err(corrupt("its CRC-32 is not the recorded one".into()));
    }
    Ok(out)
}

/// The one entry of `zip` that `is_it` picks (`what` names it in errors), and its data (at
/// most `max` bytes).
pub fn zip_unique(
    zip: &[u8],
    what: &str,
    is_it: &dyn Fn(&[u8]) -> bool,
    max: u64,
) -> Result<(ZipEntry, Vec<u8>), ArchiveError> {
    let found: Vec<ZipEntry> = zip_entries(zip)?
        .into_iter()
        .filter(|e| is_it(&e.name))
        .collect();
    let e = only_one(found, what)?;
    let data = zip_read(zip, &e, max)?;
    Ok((e, data))
}

/// The one thing found for `what`: none is missing, two or more are ambiguous.
fn only_one<T>(mut found: Vec<T>, what: &str) -> Result<T, ArchiveError> {
    match found.len() {
        0 => Err(ArchiveError::Missing(what.to_owned())),
        1 => Ok(found.remove(0)),
        count => Err(ArchiveError::Ambiguous {
            what: what.to_owned(),
            count,
        }),
    }
}

/// The one regular file of a gzip'd tar whose path `is_it` picks (`what` names it in errors),
/// and its data (at most `max` bytes).
pub fn tar_gz_unique(
    tgz: &[u8],
    what: &str,
    is_it: &dyn Fn(&str) -> bool,
    max: u64,
) -> Result<(String, Vec<u8>), ArchiveError> {
    let bad = |why: String| ArchiveError::Malformed(why);
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(tgz)
        .take(MAX_TAR + 1)
        .read_to_end(&mut tar)
        .map_err(|e| bad(format!("gzip: {e}")))?;
    if tar.len() as u64 > MAX_TAR {
        return Err(bad(format!("over {MAX_TAR} bytes inflated")));
    }
    let mut found: Vec<(String, std::ops::Range<usize>)> = Vec::new();
    let mut at = 0usize;
    // The path a pax `x` or GNU `L` record gives the entry after it.
    let mut next_name: Option<String> = None;
    while at + 512 <= tar.len() {
        let h = &tar[at..at + 512];
        if h.iter().all(|&b| b == 0) {
            break;
        }
        let field = |r: std::ops::Range<usize>| {
            let f = &h[r];
            let end = f.iter().position(|&b| b == 0).unwrap_or(f.len());
            String::from_utf8_lossy(&f[..end]).into_owned()
        };
        let mut name = field(0..100);
        if &h[257..262] == b"ustar" {
            let prefix = field(345..500);
            if !prefix.is_empty() {
                name = format!("{prefix}/{name}");
            }
        }
        let size_field = field(124..136);
        let size = usize::from_str_radix(size_field.trim_matches([' ', '\0']), 8)
            .map_err(|_| bad(format!("tar entry {name:?}: bad size field")))?;
        let body = at + 512;
        let end = body
            .checked_add(size)
            .filter(|&e| e <= tar.len())
            .ok_or_else(|| bad(format!("tar entry {name:?} runs past the end")))?;
        let data = &tar[body..end];
        match h[156] {
            b'x' => next_name = pax_path(data).or(next_name),
            b'L' => {
                let e = data.iter().position(|&b| b == 0).unwrap_or(data.len());
                next_name = Some(String::from_utf8_lossy(&data[..e]).into_owned());
            }
            b'g' => {
                if pax_path(data).is_some() {
                    return Err(bad("a pax global header sets a path for every entry".into()));
                }
            }
            t => {
                let path = next_name.take().unwrap_or(name);
                let path = path.strip_prefix("./").unwrap_or(&path).to_owned();
                if is_it(&path) {
                    if t != b'0' && t != 0 {
                        // A link or a device where the file should be: not the file.
                        return Err(ArchiveError::Corrupt {
                            name: path,
                            why: format!("a tar entry of type {:?}, not a file", t as char),
                        });
                    }
                    found.push((path, body..end));
                }
            }
        }
        at = body + size.div_ceil(512) * 512;
    }
    let (path, range) = only_one(found, what)?;
    if range.len() as u64 > max {
        return Err(ArchiveError::Corrupt {
            name: path,
            why: format!("{} bytes is over the {max}-byte limit", range.len()),
        });
    }
    Ok((path, tar[range].to_vec()))
}

/// The `path` a pax extended header sets (`LEN path=VALUE\n` records).
fn pax_path(mut data: &[u8]) -> Option<String> {
    let mut path = None;
    while !data.is_empty() {
        let sp = data.iter().position(|&b| b == b' ')?;
        let len: usize = std::str::from_utf8(&data[..sp]).ok()?.parse().ok()?;
        if len <= sp || len > data.len() {
            return path;
        }
        let rec = &data[sp + 1..len];
        let rec = rec.strip_suffix(b"\n").unwrap_or(rec);
        if let Some(v) = rec.strip_prefix(b"path=") {
            path = Some(String::from_utf8_lossy(v).into_owned());
        }
        data = &data[len..];
    }
    path
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A gzip'd ustar of `files` (path, bytes, type flag), written by hand.
    pub(crate) fn tgz(files: &[(&str, &[u8], u8)]) -> Vec<u8> {
        let mut tar = Vec::new();
        for (name, data, kind) in files {
            let mut h = [0u8; 512];
            h[..name.len()].copy_from_slice(name.as_bytes());
            h[100..107].copy_from_slice(b"0000644");
            h[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
            h[156] = *kind;
            h[257..263].copy_from_slice(b"ustar\0");
            h[263..265].copy_from_slice(b"00");
            h[148..156].copy_from_slice(b"        ");
            let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
            h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
            tar.extend_from_slice(&h);
            tar.extend_from_slice(data);
            tar.resize(tar.len().div_ceil(512) * 512, 0);
        }
        tar.resize(tar.len() + 1024, 0);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &tar).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn a_tar_entry_is_read_once_and_two_are_refused() {
        let pick = |p: &str| p == "package/package.json";
        let t = tgz(&[
            ("package/a.js", b"x", b'0'),
            ("package/package.json", b"{}", b'0'),
        ]);
        let (p, d) = tar_gz_unique(&t, "package.json", &pick, 1 << 20).unwrap();
        assert_eq!(
            (p.as_str(), d.as_slice()),
            ("package/package.json", &b"{}"[..])
        );
        // npm's tar (like most extractors) keeps the last of two entries: which one a
        // reader sees is not to be guessed.
        let t = tgz(&[
            ("package/package.json", b"{}", b'0'),
            ("package/package.json", b"{\"a\":1}", b'0'),
        ]);
        assert!(matches!(
            tar_gz_unique(&t, "package.json", &pick, 1 << 20),
            Err(ArchiveError::Ambiguous { count: 2, .. })
        ));
        // A pax record renames the next entry: the name a real extractor uses is the one read.
        let pax = b"29 path=package/package.json\n";
        let t = tgz(&[
            ("PaxHeader", pax, b'x'),
            ("package/other.json", b"{}", b'0'),
        ]);
        assert!(tar_gz_unique(&t, "package.json", &pick, 1 << 20).is_ok());
        let t = tgz(&[("package/package.json", b"../../etc/passwd", b'2')]);
        assert!(matches!(
            tar_gz_unique(&t, "package.json", &pick, 1 << 20),
            Err(ArchiveError::Corrupt { .. })
        ));
        // Garbage and truncation never panic.
        let t = tgz(&[("package/package.json", b"{}", b'0')]);
        for n in 0..t.len() {
            let _ = tar_gz_unique(&t[..n], "package.json", &pick, 1 << 20);
        }
        assert!(tar_gz_unique(b"not gzip", "x", &pick, 10).is_err());
    }
}

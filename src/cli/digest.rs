//! `mcpseal digest PATH… [--list]`: SHA-256 of files and directory trees.

use std::path::PathBuf;

use serde_json::json;

use super::{CliError, CmdResult, Exit, Global, emit, emit_json};
use crate::digest::{DigestError, digest_path};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or directories to digest. A directory's digest covers its manifest (docs/formats.md).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Also print each directory's manifest, one line per file or symlink, so it can be audited.
    #[arg(long)]
    pub list: bool,
}

pub(crate) fn digest_error(e: DigestError) -> CliError {
    CliError::error(e.code(), e.to_string())
        .help("check the path exists, is readable, and is a regular file or directory")
}

pub fn run(args: Args, g: &Global) -> CmdResult {
    let mut results = Vec::new();
    for p in &args.paths {
        results.push(super::progress::hashing(p, || digest_path(p)).map_err(digest_error)?);
    }
    if g.json {
        let items: Vec<_> = results
            .iter()
            .map(|d| {
                let mut o = json!({
                    "path": d.path.display().to_string(),
                    "kind": if d.manifest.is_some() { "directory" } else { "file" },
                    "digest": d.digest.to_string(),
                });
                if let Some(i) = &d.npm_integrity {
                    o["npmIntegrity"] = json!(i);
                }
                if let Some(m) = &d.manifest {
                    o["files"] = json!(m.len());
                    if args.list {
                        o["manifest"] = json!(m.iter().map(|e| e.line()).collect::<Vec<_>>());
                    }
                }
                o
            })
            .collect();
        emit_json(&json!({ "ok": true, "digests": items }));
    } else {
        for d in &results {
            emit(&format!("{}  {}", d.digest, d.path.display()));
            if let Some(i) = &d.npm_integrity {
                emit(&format!("  npm integrity: {i}"));
            }
            if let (true, Some(m)) = (args.list, &d.manifest) {
                for e in m {
                    emit(&format!("  {}", e.line()));
                }
            }
        }
    }
    Ok(Exit::Ok)
}

//! Benchmark of the scan engine: 100 servers x 50 tools, surfaces generated in memory;
//! `scripts/bench-scan.sh` measures the whole CLI on the same surfaces from a lockfile and as
//! surface files. Prints the median of 15 runs of
//! `mcpseal::scan::scan`, and of strict parsing + scanning from JSON bytes.
//!
//!     cargo bench --bench scan
//!     cargo bench --bench scan -- --write-surfaces DIR    (the surfaces as files)
//!     cargo bench --bench scan -- --write-lock FILE       (the surfaces pinned in a lockfile)

use std::time::{Duration, Instant};

use mcpseal::scan::{self, ScanInput};
use serde_json::{Value, json};

fn surface(s: usize) -> Value {
    let tools: Vec<Value> = (0..50)
        .map(|t| {
            json!({
                "name": format!("srv{s}_tool_{t}"),
                "title": format!("Tool {t} of server {s}"),
                "description": format!(
                    "Reads records from the {s}th data source and returns them as JSON. Use the 'limit' parameter to page through large result sets; results are sorted by creation time. See https://docs.example.com/api for the field reference. Related: srv{s}_tool_{} writes records back.",
                    (t + 1) % 50
                ),
                "inputSchema": {
                    "type": "object",
                    "properties": {
                        "query": {"type": "string", "description": "A filter expression, e.g. `status = 'open'`."},
                        "limit": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100, "description": "Largest number of records to return."},
                        "format": {"type": "string", "enum": ["json", "csv", "table"], "default": "json", "description": "Output format."},
                        "fields": {"type": "array", "items": {"type": "string"}, "description": "Fields to include; all when empty."}
                    },
                    "required": ["query"]
                },
                "annotations": {"readOnlyHint": true, "openWorldHint": false}
            })
        })
        .collect();
    json!({"serverInfo": {"name": format!("bench-server-{s}"), "version": "1.0.0"}, "tools": tools})
}

/// The surfaces pinned in one lockfile, as `mcpseal pin` would write them.
fn pinned(docs: &[Vec<u8>]) -> mcpseal::lock::Lockfile {
    let mut lock = mcpseal::lock::Lockfile::new();
    for input in parse_all(docs) {
        let launch = mcpseal::lock::PinnedLaunch::Stdio {
            command: "node".into(),
            args: vec![format!("{}/index.js", input.name)],
            env: Vec::new(),
        };
        let surface = input.surface.unwrap();
        let entry = mcpseal::lock::ServerEntry::from_surface(launch, json!({}), &surface).unwrap();
        lock.servers.insert(input.name, entry);
    }
    lock
}

/// Strict parse of every surface document, as `mcpseal scan` does with its inputs.
fn parse_all(docs: &[Vec<u8>]) -> Vec<ScanInput> {
    docs.iter()
        .enumerate()
        .map(|(i, b)| ScanInput {
            name: format!("s{i:03}"),
            surface: Some(
                scan::surface_from_json(mcpseal::json::parse_strict(b).unwrap()).unwrap(),
            ),
            launch: None,
        })
        .collect()
}

/// Prints the median, min and max of `runs` in milliseconds.
fn report(what: &str, mut runs: Vec<Duration>) {
    runs.sort();
    let ms = |d: &Duration| d.as_secs_f64() * 1e3;
    println!(
        "{what}: median {:.1} ms (min {:.1}, max {:.1}), {} runs",
        runs.get(runs.len() / 2).map_or(0.0, ms),
        runs.first().map_or(0.0, ms),
        runs.last().map_or(0.0, ms),
        runs.len()
    );
}

fn main() {
    let docs: Vec<Vec<u8>> = (0..100)
        .map(|s| serde_json::to_vec(&surface(s)).unwrap())
        .collect();
    // `-- --write-surfaces DIR`: write the surfaces as files for scripts/bench-scan.sh;
    // `-- --write-lock FILE`: write them pinned in one lockfile.
    let args: Vec<String> = std::env::args().collect();
    if let Some(file) = args
        .iter()
        .position(|a| a == "--write-lock")
        .and_then(|i| args.get(i + 1))
    {
        let lock = pinned(&docs);
        std::fs::write(file, lock.to_text()).unwrap();
        return;
    }
    if let Some(dir) = args
        .iter()
        .position(|a| a == "--write-surfaces")
        .and_then(|i| args.get(i + 1))
    {
        for (i, d) in docs.iter().enumerate() {
            std::fs::write(format!("{dir}/s{i:03}.json"), d).unwrap();
        }
        return;
    }
    let inputs = parse_all(&docs);
    let bytes: usize = docs.iter().map(Vec::len).sum();
    // Warm up (compiles the patterns once, as the first scan in a process does).
    let n = scan::scan(&inputs).len();
    let mut engine = Vec::new();
    let mut end_to_end = Vec::new();
    for _ in 0..15 {
        let t = Instant::now();
        let f = scan::scan(&inputs);
        engine.push(t.elapsed());
        assert_eq!(f.len(), n);
        let t = Instant::now();
        let parsed = parse_all(&docs);
        let f = scan::scan(&parsed);
        end_to_end.push(t.elapsed());
        assert_eq!(f.len(), n);
        std::mem::forget(parsed);
    }
    report(
        &format!(
            "scan engine, 100 servers x 50 tools ({:.1} MB JSON, {n} findings)",
            bytes as f64 / 1e6
        ),
        engine,
    );
    // From a lockfile: the lock module's load (strict parse, every entity's digest checked)
    // and then the scan of the pinned surfaces.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mcpseal.lock");
    std::fs::write(&path, pinned(&docs).to_text()).unwrap();
    let (mut load, mut from_lock) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        let t = Instant::now();
        let lock = mcpseal::lock::Store::load(&path).unwrap();
        load.push(t.elapsed());
        let inputs: Vec<ScanInput> = lock
            .servers
            .iter()
            .map(|(name, e)| ScanInput {
                name: name.clone(),
                surface: Some(e.to_surface()),
                launch: Some(mcpseal::scan::inputs::launch_from_pin(e.launch())),
            })
            .collect();
        let f = scan::scan(&inputs);
        from_lock.push(t.elapsed());
        assert_eq!(f.len(), n);
        std::mem::forget((lock, inputs));
    }
    report(
        &format!(
            "lock::Store::load of the {:.1} MB lockfile",
            std::fs::metadata(&path).unwrap().len() as f64 / 1e6
        ),
        load,
    );
    report("load + scan from the lockfile", from_lock);
    report("strict parse + scan from JSON bytes", end_to_end);
}

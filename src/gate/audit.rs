//! Audit events: one JSON line per gate decision, for a SIEM (schema in docs/audit.md).
//!
//! Sinks: a file (`--audit-log`, appended, flushed on every event and `fsync`ed on verdicts),
//! stderr (`--audit-stderr`), and the local syslog socket `/dev/log` in RFC 5424 framing
//! (`--audit-syslog`). Env var values never appear in events.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::sync::Mutex;

use serde_json::{Map, Value, json};

/// Where events go. A sink that fails after opening is reported once on stderr and dropped;
/// opening the file sink is checked before the server starts (so a gate never runs blind).
pub struct Audit {
    server: String,
    file: Option<Mutex<File>>,
    stderr: bool,
    syslog: Option<UnixDatagram>,
}

/// One decision.
pub struct Event<'a> {
    pub event: &'a str,
    pub decision: &'a str,
    pub fields: Value,
}

impl Audit {
    pub fn new(
        server: &str,
        file: Option<&Path>,
        stderr: bool,
        syslog: bool,
    ) -> std::io::Result<Audit> {
        let file = match file {
            Some(p) => Some(Mutex::new(
                OpenOptions::new().create(true).append(true).open(p)?,
            )),
            None => None,
        };
        let syslog = if syslog {
            let s = UnixDatagram::unbound()?;
            // MCPSEAL_SYSLOG_SOCKET points tests (or a chroot) at another socket.
            let path =
                std::env::var_os("MCPSEAL_SYSLOG_SOCKET").unwrap_or_else(|| "/dev/log".into());
            s.connect(&path)?;
            Some(s)
        } else {
            None
        };
        Ok(Audit {
            server: server.to_owned(),
            file,
            stderr,
            syslog,
        })
    }

    /// Records a `block` decision (always a verdict: synced to disk).
    pub fn block(&self, event: &str, fields: Value) {
        self.record(
            Event {
                event,
                decision: "block",
                fields,
            },
            true,
        );
    }

    /// Records an event. `verdict` events are synced to disk before returning.
    pub fn record(&self, e: Event<'_>, verdict: bool) {
        let mut obj = Map::new();
        obj.insert("time".into(), json!(jiff::Timestamp::now().to_string()));
        obj.insert("server".into(), json!(self.server));
        obj.insert("event".into(), json!(e.event));
        obj.insert("decision".into(), json!(e.decision));
        obj.insert("pid".into(), json!(std::process::id()));
        let critical = e.fields.get("severity").and_then(Value::as_str) == Some("critical");
        if let Value::Object(extra) = e.fields {
            for (k, v) in extra {
                if !v.is_null() {
                    obj.insert(k, v);
                }
            }
        }
        let line = Value::Object(obj).to_string();
        if let Some(f) = &self.file
            && let Ok(mut f) = f.lock()
        {
            let _ = writeln!(f, "{line}");
            let _ = f.flush();
            if verdict {
                let _ = f.sync_data();
            }
        }
        if self.stderr {
            let _ = writeln!(std::io::stderr().lock(), "mcpseal audit: {line}");
        }
        if let Some(s) = &self.syslog {
            // RFC 5424: <PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG.
            // Facility authpriv (10); severity warning (4) for blocks, info (6) otherwise.
            // Severity critical (2) for an event that says so (`canary-tripped`).
            let sev = if critical {
                2
            } else if e.decision == "allow" {
                6
            } else {
                4
            };
            let pri = 10 * 8 + sev;
            let ts = jiff::Timestamp::now().to_string();
            let msg = format!(
                "<{pri}>1 {ts} - mcpseal {} {} - {line}",
                std::process::id(),
                e.event
            );
            let _ = s.send(msg.as_bytes());
        }
    }
}

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
    /// Where event times come from: the system clock, or a fixed one in tests.
    clock: fn() -> jiff::Timestamp,
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
        // MCPSEAL_SYSLOG_SOCKET points tests (or a chroot) at another socket.
        let socket = syslog.then(|| {
            std::env::var_os("MCPSEAL_SYSLOG_SOCKET").unwrap_or_else(|| "/dev/log".into())
        });
        Audit::with_sinks(server, file, stderr, socket.as_deref().map(Path::new))
    }

    /// The sinks named: a file to append to, stderr, a syslog socket.
    fn with_sinks(
        server: &str,
        file: Option<&Path>,
        stderr: bool,
        syslog: Option<&Path>,
    ) -> std::io::Result<Audit> {
        let file = match file {
            Some(p) => Some(Mutex::new(
                OpenOptions::new().create(true).append(true).open(p)?,
            )),
            None => None,
        };
        let syslog = match syslog {
            Some(path) => {
                let s = UnixDatagram::unbound()?;
                s.connect(path)?;
                Some(s)
            }
            None => None,
        };
        Ok(Audit {
            server: server.to_owned(),
            file,
            stderr,
            syslog,
            clock: jiff::Timestamp::now,
        })
    }

    /// The same sinks with event times from `clock` (tests assert timestamps with it).
    pub fn with_clock(mut self, clock: fn() -> jiff::Timestamp) -> Audit {
        self.clock = clock;
        self
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
        // One time for every sink: the file, stderr and syslog lines of an event agree.
        let ts = (self.clock)().to_string();
        let mut obj = Map::new();
        obj.insert("time".into(), json!(ts));
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
            let msg = format!(
                "<{pri}>1 {ts} - mcpseal {} {} - {line}",
                std::process::id(),
                e.event
            );
            let _ = s.send(msg.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed() -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_764_547_200).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn events_carry_the_injected_clock_and_every_field() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("audit.jsonl");
        let a = Audit::new("srv", Some(&path), false, false)
            .unwrap()
            .with_clock(fixed);
        a.block("not-pinned", json!({"tool": "x", "dropped": null}));
        let text = std::fs::read_to_string(&path).unwrap();
        let v: Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(v["time"], "2025-12-01T00:00:00Z");
        assert_eq!(v["server"], "srv");
        assert_eq!(v["event"], "not-pinned");
        assert_eq!(v["decision"], "block");
        assert_eq!(v["tool"], "x");
        assert!(v.get("dropped").is_none(), "null fields are left out");
    }

    /// Syslog lines are RFC 5424 with facility authpriv (10): severity info (6) for an allow,
    /// warning (4) for a block, critical (2) for an event that says so; then the time, the
    /// process id, the event as MSGID, and the same JSON line the file gets.
    #[test]
    fn syslog_lines_carry_facility_severity_and_the_event() {
        let d = tempfile::tempdir().unwrap();
        let sock = d.path().join("log.sock");
        let rx = UnixDatagram::bind(&sock).unwrap();
        let a = Audit::with_sinks("srv", None, false, Some(&sock))
            .unwrap()
            .with_clock(fixed);
        let next = || {
            let mut buf = vec![0; 64 * 1024];
            let n = rx.recv(&mut buf).unwrap();
            String::from_utf8(buf[..n].to_vec()).unwrap()
        };
        let pid = std::process::id();
        a.record(
            Event {
                event: "server-start",
                decision: "allow",
                fields: json!({"command": "s"}),
            },
            false,
        );
        let line = next();
        let head = format!("<86>1 2025-12-01T00:00:00Z - mcpseal {pid} server-start - ");
        assert!(line.starts_with(&head), "{line}");
        let v: Value = serde_json::from_str(&line[head.len()..]).unwrap();
        assert_eq!(
            (v["event"].as_str(), v["command"].as_str()),
            (Some("server-start"), Some("s"))
        );
        a.block("call-blocked", json!({"tool": "rm"}));
        assert!(next().starts_with("<84>1 "));
        a.block("canary-tripped", json!({"severity": "critical"}));
        assert!(next().starts_with("<82>1 "));
        a.block("call-blocked", json!({"severity": "high"}));
        assert!(next().starts_with("<84>1 "));
    }
}

//! Progress of the bulk commands (`pin --all`, `check`, `scan --all` …) and what Ctrl-C does
//! to them.
//!
//! Each server is reported on stderr as it finishes (stdout stays the report, `--json` or
//! not): on a terminal, above a progress bar (`indicatif`); otherwise as one plain line, so a
//! log or CI shows the same facts. One hung server is then a bar that stops moving with the
//! others done above it, not seconds of silence.
//!
//! Ctrl-C (SIGINT) while a bulk command runs prints which servers finished and which did not,
//! says what was written (nothing: captures come before any write), and exits 130. Every file
//! is written whole or not at all ([`crate::atomic`]); a write in progress is let finish
//! first ([`writing`]), so an interrupt never leaves a lock and its backup out of step.

use std::io::IsTerminal;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// What the interrupt handler reports: the command running and how far it got.
struct Running {
    verb: &'static str,
    names: Vec<String>,
    finished: Vec<(usize, String)>,
}

static RUNNING: Mutex<Option<Running>> = Mutex::new(None);
/// Held while a file is written; the interrupt handler waits for it.
static WRITING: Mutex<()> = Mutex::new(());

fn running() -> MutexGuard<'static, Option<Running>> {
    RUNNING.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Holds off an interrupt's exit until the guard is dropped (around a file write).
pub(crate) fn writing() -> MutexGuard<'static, ()> {
    WRITING.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The progress of one bulk command. Dropping it ends the report.
pub(crate) struct Progress {
    verb: &'static str,
    total: usize,
    done: usize,
    started: Instant,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Starts reporting `verb` over `names` (the servers, in the order given).
    pub(crate) fn start(verb: &'static str, names: Vec<String>) -> Progress {
        interrupts::install();
        let total = names.len();
        *running() = Some(Running {
            verb,
            names,
            finished: Vec::new(),
        });
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = ProgressBar::with_draw_target(
                Some(total as u64),
                ProgressDrawTarget::stderr_with_hz(10),
            );
            if let Ok(style) =
                ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {elapsed} {msg}")
            {
                b.set_style(style.progress_chars("=> "));
            }
            b.set_prefix(verb);
            b.enable_steady_tick(std::time::Duration::from_millis(200));
            b
        });
        Progress {
            verb,
            total,
            done: 0,
            started: Instant::now(),
            bar,
        }
    }

    /// Server `index` (of the names given to [`Progress::start`]) finished as `state`.
    pub(crate) fn finished(&mut self, index: usize, name: &str, state: &str) {
        self.done += 1;
        if let Some(r) = running().as_mut() {
            r.finished.push((index, state.to_owned()));
        }
        let line = format!(
            "{} [{}/{}] {name}: {state} ({:.1} s)",
            self.verb,
            self.done,
            self.total,
            self.started.elapsed().as_secs_f64()
        );
        match &self.bar {
            Some(b) => {
                b.println(line);
                b.inc(1);
            }
            None => super::progress(&line),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
        *running() = None;
    }
}

/// Runs `f` (which hashes `path`); if it is still running after a second and stderr is a
/// terminal, shows how many bytes are hashed (of how many, for a file) until it returns.
pub(crate) fn hashing<T>(path: &std::path::Path, f: impl FnOnce() -> T) -> T {
    if !std::io::stderr().is_terminal() {
        return f();
    }
    let total = std::fs::metadata(path)
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len());
    let from = crate::digest::hashed_bytes();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    std::thread::scope(|s| {
        s.spawn(move || {
            use std::sync::mpsc::RecvTimeoutError::Timeout;
            if rx.recv_timeout(std::time::Duration::from_secs(1)) != Err(Timeout) {
                return;
            }
            let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr_with_hz(10));
            let template = match total {
                Some(_) => "hashing {prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
                None => "hashing {prefix} {spinner} {bytes} {bytes_per_sec}",
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix(path.display().to_string());
            while rx.recv_timeout(std::time::Duration::from_millis(100)) == Err(Timeout) {
                bar.set_position(crate::digest::hashed_bytes().saturating_sub(from));
            }
            bar.finish_and_clear();
        });
        let r = f();
        drop(tx);
        r
    })
}

/// The interrupt report for what is running (pure, for the tests).
fn interrupted_report(r: &Running) -> String {
    let mut out = format!(
        "interrupted: {} finished {} of {} servers",
        r.verb,
        r.finished.len(),
        r.names.len()
    );
    for (i, state) in &r.finished {
        if let Some(n) = r.names.get(*i) {
            out.push_str(&format!("\n  {n}: {state}"));
        }
    }
    let pending: Vec<&str> = r
        .names
        .iter()
        .enumerate()
        .filter(|(i, _)| !r.finished.iter().any(|(j, _)| j == i))
        .map(|(_, n)| n.as_str())
        .collect();
    if !pending.is_empty() {
        out.push_str(&format!("\n  not finished: {}", pending.join(", ")));
    }
    out.push_str("\nnothing was written: run the command again to finish");
    out
}

#[cfg(unix)]
mod interrupts {
    use std::sync::Once;

    /// Blocks SIGINT in this thread (and so in every thread it starts later) and waits for
    /// it on a thread of its own, where it is safe to lock, print and exit. Children start
    /// with an empty signal mask (std resets it), so a server still gets the terminal's
    /// Ctrl-C itself.
    pub(super) fn install() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            // SAFETY: sigset_t is plain data initialised by sigemptyset; pthread_sigmask and
            // sigwait are given valid pointers to it.
            unsafe {
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, libc::SIGINT);
                if libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
                    return;
                }
                let _ = std::thread::Builder::new()
                    .name("sigint".into())
                    .spawn(move || {
                        let mut sig: libc::c_int = 0;
                        while libc::sigwait(&set, &mut sig) != 0 {}
                        super::on_interrupt();
                    });
            }
        });
    }
}

#[cfg(not(unix))]
mod interrupts {
    pub(super) fn install() {}
}

fn on_interrupt() -> ! {
    let report = running().as_ref().map(interrupted_report);
    let _writes_done = writing();
    super::progress(report.as_deref().unwrap_or("interrupted"));
    std::process::exit(130);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interrupt_report_names_finished_and_pending_servers() {
        let r = Running {
            verb: "pin",
            names: vec!["a".into(), "b".into(), "c".into()],
            finished: vec![(2, "captured (3 entities)".into())],
        };
        let s = interrupted_report(&r);
        assert!(
            s.starts_with("interrupted: pin finished 1 of 3 servers"),
            "{s}"
        );
        assert!(s.contains("\n  c: captured (3 entities)"), "{s}");
        assert!(s.contains("not finished: a, b"), "{s}");
        assert!(s.contains("nothing was written"), "{s}");
    }
}

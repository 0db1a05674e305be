//! The gated server as a process: spawning it, passing signals on, ending it. All of the
//! gate's `unsafe` is here, each block a single async-signal-safe libc call.
//!
//! - The server is spawned directly (no shell) with stdin/stdout piped and stderr inherited;
//!   on Linux it gets `PR_SET_PDEATHSIG(SIGKILL)`, so it never outlives the gate.
//! - SIGTERM, SIGINT and SIGHUP sent to the gate are passed to the server.
//! - After the client closes its side the server gets EOF, then SIGTERM after 2 s and SIGKILL
//!   after 3 s if it has not exited ([`end_after_eof`]).

use std::io::{Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

/// The running server's pid, for the signal handler (0: none).
static CHILD_PID: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward_signal(sig: libc::c_int) {
    let pid = CHILD_PID.load(Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: kill(2) is async-signal-safe.
        unsafe {
            libc::kill(pid, sig);
        }
    }
}

fn install_signal_forwarding() {
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
        // SAFETY: the handler only reads an atomic and calls kill(2).
        unsafe {
            libc::signal(sig, forward_signal as *const () as libc::sighandler_t);
        }
    }
}

fn signal(pid: u32, sig: libc::c_int) {
    if let Ok(pid) = i32::try_from(pid)
        && pid > 0
        && CHILD_PID.load(Ordering::SeqCst) == pid
    {
        // SAFETY: plain kill(2) on our own, still registered child's pid.
        unsafe {
            libc::kill(pid, sig);
        }
    }
}

/// A spawned server.
pub struct Child(std::process::Child);

/// Spawns `command args` as the gated server and starts passing signals on to it.
pub fn spawn(command: &str, args: &[String]) -> std::io::Result<Child> {
    let mut cmd = Command::new(command);
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe; it only sets the child's parent-death signal.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
    }
    let child = cmd.spawn()?;
    CHILD_PID.store(i32::try_from(child.id()).unwrap_or(0), Ordering::SeqCst);
    install_signal_forwarding();
    Ok(Child(child))
}

/// After the server got EOF: SIGTERM in 2 s, SIGKILL a second later, unless it is gone.
/// Blocks the calling thread for those 3 s.
pub fn end_after_eof(pid: u32) {
    for (wait, sig) in [(2000, libc::SIGTERM), (1000, libc::SIGKILL)] {
        std::thread::sleep(Duration::from_millis(wait));
        signal(pid, sig);
    }
}

impl Child {
    pub fn id(&self) -> u32 {
        self.0.id()
    }

    pub fn take_stdin(&mut self) -> std::io::Result<Box<dyn Write + Send>> {
        self.0
            .stdin
            .take()
            .map(|s| Box::new(s) as Box<dyn Write + Send>)
            .ok_or_else(|| std::io::Error::other("no stdin pipe"))
    }

    pub fn take_stdout(&mut self) -> std::io::Result<Box<dyn Read + Send>> {
        self.0
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>)
            .ok_or_else(|| std::io::Error::other("no stdout pipe"))
    }

    /// Ends the server: at once when the gate ended the session, else after a moment to exit
    /// by itself. Unregisters it from signal forwarding.
    pub fn finish(&mut self, ended_by_gate: bool) -> Option<ExitStatus> {
        let c = &mut self.0;
        let status = if ended_by_gate {
            let _ = c.kill();
            c.wait().ok()
        } else {
            let mut st = None;
            for _ in 0..50 {
                if let Ok(Some(x)) = c.try_wait() {
                    st = Some(x);
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            match st {
                Some(x) => Some(x),
                None => {
                    let _ = c.kill();
                    c.wait().ok()
                }
            }
        };
        CHILD_PID.store(0, Ordering::SeqCst);
        status
    }
}

/// The effective user's login name (getpwuid_r), for the default principal.
pub fn os_user_name() -> Option<String> {
    let mut buf = vec![0 as libc::c_char; 4096];
    // SAFETY: `pwd` and `buf` outlive the call; getpwuid_r writes only inside them and sets
    // `result` to null or to `&mut pwd`, whose `pw_name` then points into `buf`, NUL-ended.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(
            libc::geteuid(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        );
        if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
            return None;
        }
        let name = std::ffi::CStr::from_ptr(pwd.pw_name)
            .to_str()
            .ok()?
            .to_owned();
        (!name.is_empty()).then_some(name)
    }
}

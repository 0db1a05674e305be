//! The gated server as a process: spawning it, passing signals on, waiting for it, ending it.
//! All of the gate's `unsafe` is here, each block a single libc call.
//!
//! - The server is spawned directly (no shell) with stdin/stdout piped and stderr inherited;
//!   on Linux it gets `PR_SET_PDEATHSIG(SIGKILL)`, so it never outlives the gate.
//! - SIGTERM, SIGINT and SIGHUP sent to the gate are passed to the server.
//! - After the client closes its side the server gets EOF, then SIGTERM after 2 s and SIGKILL
//!   after 3 s if it has not exited ([`Exit::end_after_eof`]).
//! - Nothing here sleeps (issue 17). Waiting for the server's exit is a wait on an event: on
//!   Linux a pidfd, opened right after the spawn (before anything can reap the child, so it
//!   names exactly this process even once its pid is reused), polled with the grace period as
//!   the timeout: the poll returns the moment the server exits. Signals after EOF go through
//!   `pidfd_send_signal`, which cannot reach another process. Without a pidfd (not Linux, or a
//!   kernel before 5.3) the fallback asks every 5 ms whether the server still runs.

use std::io::{Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

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

/// The server's exit as an event: what the gate waits on, and signals through, from any
/// thread.
#[derive(Clone)]
pub struct Exit {
    pid: i32,
    #[cfg(target_os = "linux")]
    pidfd: Option<std::sync::Arc<std::os::fd::OwnedFd>>,
}

impl Exit {
    #[cfg(target_os = "linux")]
    fn open(pid: i32) -> Exit {
        use std::os::fd::FromRawFd;
        // SAFETY: pidfd_open(2) takes a pid and flags and returns a new fd or -1. The child is
        // not reaped yet (only `Child::finish` waits for it), so the pid is still this process.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        let pidfd = i32::try_from(fd).ok().filter(|fd| *fd >= 0).map(|fd| {
            // SAFETY: `fd` was just returned by pidfd_open and nothing else owns it.
            std::sync::Arc::new(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
        });
        Exit { pid, pidfd }
    }

    #[cfg(not(target_os = "linux"))]
    fn open(pid: i32) -> Exit {
        Exit { pid }
    }

    /// Waits until the server has exited or `timeout` has passed; true if it exited. Returns
    /// as soon as the server exits; does not reap it.
    fn wait(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        #[cfg(target_os = "linux")]
        if let Some(fd) = &self.pidfd {
            use std::os::fd::AsRawFd;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                let ms = libc::c_int::try_from(left.as_millis()).unwrap_or(libc::c_int::MAX);
                let mut p = libc::pollfd {
                    fd: fd.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: poll(2) on one valid pollfd that outlives the call.
                let n = unsafe { libc::poll(&mut p, 1, ms) };
                if n != -1 {
                    return n > 0;
                }
                if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                    break; // poll itself failed: fall back to asking
                }
            }
        }
        loop {
            if !self.running() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Whether the pid still runs (exists and is not a zombie awaiting `wait`).
    fn running(&self) -> bool {
        // SAFETY: kill(2) with signal 0 only checks that the process exists.
        let exists = self.pid > 0 && unsafe { libc::kill(self.pid, 0) } == 0;
        exists
            && !std::fs::read_to_string(format!("/proc/{}/stat", self.pid))
                .ok()
                .and_then(|s| {
                    s.rsplit_once(')')
                        .map(|(_, r)| r.trim_start().starts_with('Z'))
                })
                .unwrap_or(false)
    }

    /// Sends `sig` to the server.
    fn signal(&self, sig: libc::c_int) {
        #[cfg(target_os = "linux")]
        if let Some(fd) = &self.pidfd {
            use std::os::fd::AsRawFd;
            // SAFETY: pidfd_send_signal(2) on our own pidfd; it can only reach that process.
            unsafe {
                libc::syscall(
                    libc::SYS_pidfd_send_signal,
                    fd.as_raw_fd(),
                    sig,
                    std::ptr::null::<libc::siginfo_t>(),
                    0,
                );
            }
            return;
        }
        if self.pid > 0 && CHILD_PID.load(Ordering::SeqCst) == self.pid {
            // SAFETY: plain kill(2) on our own, still registered child's pid.
            unsafe {
                libc::kill(self.pid, sig);
            }
        }
    }

    /// After the server got EOF: SIGTERM in 2 s, SIGKILL a second later, unless it exited
    /// first. Blocks the calling thread until the server exits or SIGKILL is sent (at most
    /// 3 s); the kill itself completes in the kernel right after.
    pub fn end_after_eof(&self) {
        for (wait, sig) in [(2000, libc::SIGTERM), (1000, libc::SIGKILL)] {
            if self.wait(Duration::from_millis(wait)) {
                return;
            }
            self.signal(sig);
        }
    }
}

/// A spawned server.
pub struct Child {
    process: std::process::Child,
    exit: Exit,
}

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
    let process = cmd.spawn()?;
    let pid = i32::try_from(process.id()).unwrap_or(0);
    CHILD_PID.store(pid, Ordering::SeqCst);
    install_signal_forwarding();
    Ok(Child {
        process,
        exit: Exit::open(pid),
    })
}

/// How long a server whose output ended may take to exit by itself before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(1);

impl Child {
    pub fn id(&self) -> u32 {
        self.process.id()
    }

    /// The server's exit, to wait on or signal from another thread.
    pub fn exit(&self) -> Exit {
        self.exit.clone()
    }

    pub fn take_stdin(&mut self) -> std::io::Result<Box<dyn Write + Send>> {
        self.process
            .stdin
            .take()
            .map(|s| Box::new(s) as Box<dyn Write + Send>)
            .ok_or_else(|| std::io::Error::other("no stdin pipe"))
    }

    pub fn take_stdout(&mut self) -> std::io::Result<Box<dyn Read + Send>> {
        self.process
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>)
            .ok_or_else(|| std::io::Error::other("no stdout pipe"))
    }

    /// Ends the server: at once when the gate ended the session, else after up to
    /// [`EXIT_GRACE`] to exit by itself (returning the moment it does). Unregisters it from
    /// signal forwarding.
    pub fn finish(&mut self, ended_by_gate: bool) -> Option<ExitStatus> {
        if ended_by_gate || !self.exit.wait(EXIT_GRACE) {
            let _ = self.process.kill();
        }
        let status = self.process.wait().ok();
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

#[cfg(test)]
mod tests {
    //! Real processes (`sh`, `sleep`, `cat`): what the gate does to a server is what these see.
    //! `CHILD_PID` is one per process, so the tests that spawn take `ONE_AT_A_TIME` (nextest
    //! runs each test alone anyway; `cargo test` runs them on threads of one process).

    use super::*;
    use std::os::unix::process::ExitStatusExt;
    use std::sync::Mutex;

    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

    fn serial() -> std::sync::MutexGuard<'static, ()> {
        ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn sh(script: &str) -> Child {
        spawn("sh", &["-c".to_owned(), script.to_owned()]).expect("spawn sh")
    }

    /// The same exit without its pidfd: the fallback that asks every 5 ms.
    fn asking(exit: &Exit) -> Exit {
        Exit {
            pid: exit.pid,
            #[cfg(target_os = "linux")]
            pidfd: None,
        }
    }

    fn killed_by(status: Option<ExitStatus>) -> Option<i32> {
        status.and_then(|s| s.signal())
    }

    #[test]
    fn wait_sees_an_exit_and_times_out_on_a_server_that_runs() {
        let _one = serial();
        let mut running = sh("exec sleep 30");
        let exit = running.exit();
        #[cfg(target_os = "linux")]
        assert!(
            exit.pidfd.is_some(),
            "this kernel has pidfds: the event path is the one tested"
        );
        assert!(
            !exit.wait(Duration::from_millis(150)),
            "a running server has not exited"
        );
        assert!(
            !asking(&exit).wait(Duration::from_millis(150)),
            "nor by asking"
        );
        assert!(exit.running() && asking(&exit).running());
        running.finish(true);

        let mut done = sh("exit 0");
        let exit = done.exit();
        assert!(
            exit.wait(Duration::from_secs(10)),
            "an exited server is seen"
        );
        // Exited but not reaped: a zombie, which no longer runs.
        assert!(!exit.running(), "a zombie awaiting wait is not running");
        assert!(
            asking(&exit).wait(Duration::from_secs(10)),
            "and seen by asking too"
        );
        assert_eq!(done.finish(false).and_then(|s| s.code()), Some(0));

        // Asking keeps asking until the deadline: an exit 0.3 s in is seen.
        let mut later = sh("sleep 0.3; exit 0");
        assert!(
            asking(&later.exit()).wait(Duration::from_secs(10)),
            "seen when it exits"
        );
        later.finish(false);
    }

    #[test]
    fn no_pid_is_never_running() {
        // kill(0, 0) asks about the whole process group, which exists: pid 0 must not.
        let none = Exit {
            pid: 0,
            #[cfg(target_os = "linux")]
            pidfd: None,
        };
        assert!(!none.running());
        assert!(none.wait(Duration::from_millis(10)), "nothing to wait for");
    }

    #[test]
    fn signal_reaches_the_server_through_the_pidfd_and_the_fallback() {
        let _one = serial();
        let mut child = sh("exec sleep 30");
        child.exit().signal(libc::SIGTERM);
        assert!(child.exit().wait(Duration::from_secs(10)));
        assert_eq!(killed_by(child.finish(false)), Some(libc::SIGTERM));

        let mut child = sh("exec sleep 30");
        asking(&child.exit()).signal(libc::SIGTERM);
        assert!(child.exit().wait(Duration::from_secs(10)));
        assert_eq!(killed_by(child.finish(false)), Some(libc::SIGTERM));
    }

    #[test]
    fn the_fallback_signals_only_the_registered_server() {
        let _one = serial();
        // A process the gate did not spawn, then one it did (which is now the registered one).
        let mut other = Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("spawn sleep");
        let mut server = sh("exec sleep 30");
        let stranger = Exit {
            pid: i32::try_from(other.id()).expect("pid"),
            #[cfg(target_os = "linux")]
            pidfd: None,
        };
        stranger.signal(libc::SIGTERM);
        assert!(
            !stranger.wait(Duration::from_millis(200)),
            "a pid not registered is not signalled"
        );
        let _ = other.kill();
        let _ = other.wait();
        server.finish(true);
        // Once finished, the server is unregistered: the fallback no longer reaches its pid.
        assert_eq!(CHILD_PID.load(Ordering::SeqCst), 0);
    }

    /// With no server registered (pid 0), nothing is signalled: `kill(0, …)` would signal the
    /// gate's whole process group, here a bystander the gate did not spawn and the test itself.
    #[test]
    fn with_no_server_registered_no_signal_goes_anywhere() {
        let _one = serial();
        let mut server = sh("exec sleep 30");
        server.finish(true);
        let mut bystander = Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("spawn sleep");
        let none = Exit {
            pid: 0,
            #[cfg(target_os = "linux")]
            pidfd: None,
        };
        none.signal(libc::SIGHUP);
        // SAFETY: raise(3) runs the installed handler, which finds no server registered.
        unsafe {
            libc::raise(libc::SIGHUP);
        }
        std::thread::sleep(Duration::from_millis(200));
        let alive = matches!(bystander.try_wait(), Ok(None));
        let _ = bystander.kill();
        let _ = bystander.wait();
        assert!(
            alive,
            "the bystander in the gate's process group was signalled"
        );
    }

    #[test]
    fn a_signal_to_the_gate_is_passed_to_the_server() {
        let _one = serial();
        let mut child = sh("exec sleep 30");
        // SAFETY: raise(3) runs the installed handler on this thread before it returns.
        unsafe {
            libc::raise(libc::SIGHUP);
        }
        assert!(
            child.exit().wait(Duration::from_secs(10)),
            "the server got the SIGHUP"
        );
        assert_eq!(killed_by(child.finish(false)), Some(libc::SIGHUP));
    }

    #[test]
    fn end_after_eof_terminates_then_kills() {
        let _one = serial();
        // Exits at SIGTERM: ended by the SIGTERM that comes first.
        let mut polite = sh("exec sleep 30");
        polite.exit().end_after_eof();
        assert_eq!(killed_by(polite.finish(false)), Some(libc::SIGTERM));
        // Ignores SIGTERM (the ignoring survives exec): ended by the SIGKILL after it.
        let mut stubborn = sh("trap '' TERM; exec sleep 30");
        stubborn.exit().end_after_eof();
        assert!(
            stubborn.exit().wait(Duration::from_secs(10)),
            "SIGKILL was sent"
        );
        assert_eq!(killed_by(stubborn.finish(false)), Some(libc::SIGKILL));
        // Exits by itself first: no signal at all.
        let mut quick = sh("exit 4");
        quick.exit().end_after_eof();
        assert_eq!(quick.finish(false).and_then(|s| s.code()), Some(4));
    }

    #[test]
    fn finish_kills_at_once_when_the_gate_ended_the_session() {
        let _one = serial();
        // Would exit with 3 in 0.3 s: ended by the gate, it is killed before it can.
        let mut child = sh("sleep 0.3; exit 3");
        assert_eq!(killed_by(child.finish(true)), Some(libc::SIGKILL));
        assert_eq!(CHILD_PID.load(Ordering::SeqCst), 0, "unregistered");
        // Not ended by the gate: given its grace, it exits by itself.
        let mut child = sh("sleep 0.3; exit 3");
        assert_eq!(child.finish(false).and_then(|s| s.code()), Some(3));
        // And one that outstays the grace is killed.
        let mut child = sh("exec sleep 30");
        assert_eq!(killed_by(child.finish(false)), Some(libc::SIGKILL));
    }

    #[test]
    fn the_pipes_and_the_pid_are_the_servers() {
        let _one = serial();
        let mut child = spawn("cat", &[]).expect("spawn cat");
        let pid = child.id();
        assert_eq!(
            CHILD_PID.load(Ordering::SeqCst),
            i32::try_from(pid).expect("pid")
        );
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).expect("comm");
        assert_eq!(comm.trim(), "cat");
        let mut stdin = child.take_stdin().expect("stdin");
        let mut stdout = child.take_stdout().expect("stdout");
        assert!(
            child.take_stdin().is_err() && child.take_stdout().is_err(),
            "taken once"
        );
        stdin.write_all(b"ping\n").expect("write");
        drop(stdin);
        let mut echoed = String::new();
        stdout.read_to_string(&mut echoed).expect("read");
        assert_eq!(echoed, "ping\n");
        assert_eq!(child.finish(false).and_then(|s| s.code()), Some(0));
    }

    #[test]
    fn a_missing_command_is_an_error() {
        let _one = serial();
        let err = spawn("/nonexistent/mcpseal-test-server", &[])
            .err()
            .expect("no such file");
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    }

    #[test]
    fn os_user_name_is_the_effective_users_login_name() {
        let out = Command::new("id").arg("-un").output().expect("id -un");
        let expected = String::from_utf8(out.stdout).expect("utf-8");
        assert_eq!(os_user_name().as_deref(), Some(expected.trim()));
    }
}

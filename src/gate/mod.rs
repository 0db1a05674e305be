//! `mcpseal run`: the pre-launch gate and the proxy that keeps a server to its pins.
//!
//! 1. **Before spawning** ([`prelaunch::prepare`]): signatures of the lock and policy, the lock
//!    entry, the signatures the policy requires, `--tofu`, the launch spec and artifacts, scan
//!    findings — in that order. Only a [`prelaunch::Cleared`] builds a [`proxy::Proxy`]; on a
//!    [`Refusal`] nothing is spawned, the client's first request is answered with a JSON-RPC
//!    error that says what failed and which command fixes it ([`session::refuse`]).
//! 2. **Spawn** ([`child`]): directly, no shell; `PR_SET_PDEATHSIG`; signals passed on.
//! 3. **Proxy** ([`proxy`], a pure state machine, driven by [`session`]): every request is
//!    forwarded under a gate-issued id and its answer mapped back, so a server cannot answer
//!    what the gate did not ask; list results lose every entity that is not pinned and
//!    unchanged ([`filter`]); changed `instructions` are removed; requests naming an entity
//!    pass only if it passed the latest checked list of its kind, and the gate lists it itself
//!    when the client has not.
//! 4. **Fail closed**: a server line the gate cannot parse ends the session; an answer to an
//!    id the gate did not issue (or already saw answered) is dropped; `--on-drift kill` ends the
//!    session at the first removed entity.
//!
//! Every decision is an [`audit`] event. The library never prints: stdout is the protocol
//! channel, owned by the session; human messages are the caller's (an observer callback).

pub mod audit;
pub mod child;
pub mod filter;
pub mod prelaunch;
pub mod proxy;
pub mod serials;
pub mod session;
pub mod template;

pub use prelaunch::{Cleared, Launch, Request, prepare};
pub use proxy::{Action, AuditRecord, GATE_ERROR, Proxy};

/// What to do when a list result carries a changed or unpinned entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnDrift {
    /// Remove the entity, keep the session.
    Block,
    /// End the session with an error to the client.
    Kill,
}

/// A refusal before launch: what failed, and the command that fixes it.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub reason: &'static str,
    pub message: String,
    pub fix: String,
}

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The server exited (with this code, if any) or the client closed its side.
    Normally(Option<i32>),
    /// The gate ended the session to keep the server to its pins.
    Blocked(String),
}

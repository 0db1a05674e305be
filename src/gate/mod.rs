//! `mcpseal run`: pre-launch checks, the stdio proxy, enforcement and audit events.
//! Owned by issue 4.

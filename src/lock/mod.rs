//! The lockfile `mcpseal.lock`: its model and the one `Store` that loads, validates and
//! writes it atomically under an advisory lock. Never does crypto. Owned by issue 3.

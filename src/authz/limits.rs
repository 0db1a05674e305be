//! Rate and size limits per server and per tool, against runaway tool use (denial of wallet).
//!
//! `calls-per-minute` is a sliding window of 60 seconds over the `tools/call`s the gate
//! forwarded (refused calls count for nothing); `max-argument-bytes` bounds the JSON text of a
//! call's `arguments`. A tool's own limit applies on top of its server's. The clock is the
//! caller's (milliseconds since the session started): no clock here, so every rule is a unit
//! test.

use std::collections::{HashMap, VecDeque};

use crate::policy::Limits;

const WINDOW_MS: u64 = 60_000;

/// Which limit a call is over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Over {
    /// `server` or `tool`.
    pub scope: &'static str,
    /// `calls-per-minute` or `max-argument-bytes`.
    pub limit: &'static str,
    pub max: u64,
    pub seen: u64,
}

#[derive(Debug, Default)]
struct Window {
    times: VecDeque<u64>,
}

impl Window {
    fn count(&mut self, now: u64) -> u64 {
        while self.times.front().is_some_and(|t| t + WINDOW_MS <= now) {
            self.times.pop_front();
        }
        self.times.len() as u64
    }
}

/// A session's limits and its counters.
#[derive(Debug)]
pub struct Limiter {
    limits: Limits,
    server: Window,
    tools: HashMap<String, Window>,
}

impl Limiter {
    pub fn new(limits: Limits) -> Limiter {
        Limiter {
            limits,
            server: Window::default(),
            tools: HashMap::new(),
        }
    }

    /// Whether any limit is set.
    pub fn is_empty(&self) -> bool {
        self.limits == Limits::default()
    }

    /// Checks only the size of a call's arguments (before any other check spends work on it).
    pub fn peek_size(&self, tool: &str, arg_bytes: usize) -> Result<(), Over> {
        let t = self.limits.tools.get(tool).cloned().unwrap_or_default();
        for (scope, max) in [
            ("tool", t.max_argument_bytes),
            ("server", self.limits.max_argument_bytes),
        ] {
            if let Some(m) = max
                && arg_bytes > m
            {
                return Err(Over {
                    scope,
                    limit: "max-argument-bytes",
                    max: m as u64,
                    seen: arg_bytes as u64,
                });
            }
        }
        Ok(())
    }

    /// Checks a call of `tool` with `arg_bytes` bytes of arguments at `now` (ms); counts it
    /// when it passes.
    pub fn admit(&mut self, tool: &str, arg_bytes: usize, now: u64) -> Result<(), Over> {
        self.peek_size(tool, arg_bytes)?;
        let t = self.limits.tools.get(tool).cloned().unwrap_or_default();
        if let Some(m) = t.calls_per_minute {
            let n = self.tools.entry(tool.to_owned()).or_default().count(now);
            if n >= u64::from(m) {
                return Err(Over {
                    scope: "tool",
                    limit: "calls-per-minute",
                    max: m.into(),
                    seen: n + 1,
                });
            }
        }
        if let Some(m) = self.limits.calls_per_minute {
            let n = self.server.count(now);
            if n >= u64::from(m) {
                return Err(Over {
                    scope: "server",
                    limit: "calls-per-minute",
                    max: m.into(),
                    seen: n + 1,
                });
            }
        }
        if t.calls_per_minute.is_some() {
            self.tools
                .entry(tool.to_owned())
                .or_default()
                .times
                .push_back(now);
        }
        if self.limits.calls_per_minute.is_some() {
            self.server.times.push_back(now);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::ToolLimits;

    fn limiter() -> Limiter {
        let mut tools = std::collections::BTreeMap::new();
        tools.insert(
            "create".to_owned(),
            ToolLimits {
                calls_per_minute: Some(2),
                max_argument_bytes: Some(10),
            },
        );
        Limiter::new(Limits {
            calls_per_minute: Some(3),
            max_argument_bytes: Some(100),
            tools,
        })
    }

    #[test]
    fn tool_and_server_rates_slide_over_a_minute() {
        let mut l = limiter();
        assert!(l.admit("create", 2, 0).is_ok());
        assert!(l.admit("create", 2, 1).is_ok());
        let e = l.admit("create", 2, 2).unwrap_err();
        assert_eq!((e.scope, e.limit, e.max), ("tool", "calls-per-minute", 2));
        // The refused call counted for nothing: the server has one call left.
        assert!(l.admit("list", 2, 3).is_ok());
        let e = l.admit("list", 2, 4).unwrap_err();
        assert_eq!((e.scope, e.limit), ("server", "calls-per-minute"));
        // A minute after the first two calls, they leave the window.
        assert!(l.admit("create", 2, 60_001).is_ok());
    }

    #[test]
    fn argument_size_is_bounded_per_tool_and_per_server() {
        let mut l = limiter();
        assert_eq!(l.admit("create", 11, 0).unwrap_err().scope, "tool");
        assert_eq!(l.admit("list", 101, 0).unwrap_err().scope, "server");
        assert!(l.admit("list", 100, 0).is_ok());
    }

    #[test]
    fn no_limits_admit_everything() {
        let mut l = Limiter::new(Limits::default());
        assert!(l.is_empty());
        for i in 0..1000 {
            assert!(l.admit("t", usize::MAX / 2, i).is_ok());
        }
    }
}

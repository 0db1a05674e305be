//! Capturing a server's surface: handshake, all list pages, settling after `list_changed`.
//!
//! API fixed here; the surface work (issue 3) fills in the body.

use std::time::Duration;

use serde_json::Value;

use super::LaunchSpec;
use crate::surface::Surface;

/// How to capture. The default capability set is fixed and documented (docs/lockfile.md).
#[derive(Clone, Debug)]
pub struct CaptureOptions {
    /// Whole-capture deadline.
    pub timeout: Duration,
    /// Quiet period with no `list_changed` before the lists count as settled.
    pub settle: Duration,
    /// Client capabilities declared in `initialize`.
    pub capabilities: Value,
    /// Largest accepted message, in bytes.
    pub max_message: usize,
}

impl Default for CaptureOptions {
    fn default() -> Self {
        CaptureOptions {
            timeout: Duration::from_secs(30),
            settle: Duration::from_millis(200),
            capabilities: serde_json::json!({}),
            max_message: super::framing::DEFAULT_MAX_MESSAGE,
        }
    }
}

/// A captured surface and what was learned on the way.
#[derive(Clone, Debug)]
pub struct Capture {
    pub surface: Surface,
    /// The server's capabilities from the handshake.
    pub capabilities: Value,
}

#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{server}: {message}")]
    Failed {
        server: String,
        message: String,
        stderr_tail: String,
    },
}

impl CaptureError {
    pub fn code(&self) -> &'static str {
        "capture-failed"
    }
}

/// Starts (or connects to) the server, captures its surface, and shuts it down.
pub fn capture(spec: &LaunchSpec, _opts: &CaptureOptions) -> Result<Capture, CaptureError> {
    Err(CaptureError::Failed {
        server: format!("{spec:?}"),
        message: "capture is not implemented yet".into(),
        stderr_tail: String::new(),
    })
}

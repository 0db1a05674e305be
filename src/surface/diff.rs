//! Differences between two surfaces: added, removed and changed entities, and for a changed
//! entity the fields that changed (old and new text; the JSON pointer of each changed schema
//! node), each with a severity.
//!
//! API fixed here; the surface work (issue 3) fills in [`diff`] and the severities.

use serde::Serialize;
use serde_json::Value;

use super::{EntityKind, Surface};
use crate::severity::Severity;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// One changed node inside an entity (or the instructions).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldChange {
    /// RFC 6901 JSON pointer into the entity, e.g. `/inputSchema/properties/path/description`.
    pub pointer: String,
    pub old: Option<Value>,
    pub new: Option<Value>,
    pub severity: Severity,
}

/// One entity that was added, removed or changed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EntityChange {
    pub kind: EntityKind,
    pub key: String,
    pub change: ChangeKind,
    pub severity: Severity,
    /// For `Changed`: every changed node.
    pub fields: Vec<FieldChange>,
}

/// Everything that differs between an old (pinned) and a new (live) surface.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SurfaceDiff {
    pub entities: Vec<EntityChange>,
    /// The server instructions changed (pointer is empty).
    pub instructions: Option<FieldChange>,
}

impl SurfaceDiff {
    pub fn is_empty(&self) -> bool {
        self.entities.is_empty() && self.instructions.is_none()
    }
    /// The highest severity of any change, if any.
    pub fn max_severity(&self) -> Option<Severity> {
        self.entities
            .iter()
            .map(|e| e.severity)
            .chain(self.instructions.iter().map(|f| f.severity))
            .max()
    }
}

/// Compares two surfaces.
pub fn diff(_old: &Surface, _new: &Surface) -> SurfaceDiff {
    SurfaceDiff::default()
}

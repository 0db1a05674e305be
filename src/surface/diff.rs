//! Differences between two surfaces: added, removed and changed entities, and for a changed
//! entity the fields that changed (old and new text; the JSON pointer of each changed schema
//! node), each with a severity.
//!
//! Owned by the surface work (issue 3). Placeholder until then.

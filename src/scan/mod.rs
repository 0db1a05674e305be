//! Findings: poisoning, shadowing, hidden text, unpinned launch specs. Owned by issue 5.

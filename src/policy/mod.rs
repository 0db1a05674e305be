//! Trust policy: who may sign what, what the gate requires. Owned by issue 6.

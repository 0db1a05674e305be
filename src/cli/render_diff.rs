//! Human rendering of a [`SurfaceDiff`]: what a reviewer reads in `pin` and `check` output.

use serde_json::Value;

use crate::surface::diff::{ChangeKind, FieldChange, SurfaceDiff};

fn show(v: &Option<Value>) -> String {
    match v {
        None => "(absent)".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn field_lines(f: &FieldChange, indent: &str, out: &mut Vec<String>) {
    let at = if f.pointer.is_empty() {
        "(whole value)"
    } else {
        f.pointer.as_str()
    };
    out.push(format!("{indent}{at} ({})", f.severity));
    for line in show(&f.old).lines() {
        out.push(format!("{indent}  - {line}"));
    }
    for line in show(&f.new).lines() {
        out.push(format!("{indent}  + {line}"));
    }
}

/// Lines describing every change, indented by `indent`.
pub fn lines(d: &SurfaceDiff, indent: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(f) = &d.instructions {
        out.push(format!("{indent}~ instructions changed ({})", f.severity));
        field_lines(f, &format!("{indent}    "), &mut out);
    }
    for e in &d.entities {
        let sign = match e.change {
            ChangeKind::Added => '+',
            ChangeKind::Removed => '-',
            ChangeKind::Changed => '~',
        };
        let verb = match e.change {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
        };
        out.push(format!(
            "{indent}{sign} {} {:?} {verb} ({})",
            e.kind.noun(),
            e.key,
            e.severity
        ));
        for f in &e.fields {
            field_lines(f, &format!("{indent}    "), &mut out);
        }
    }
    out
}

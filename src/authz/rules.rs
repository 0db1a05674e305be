//! The TOML front end: `[[authz.rule]]` tables compiled to Cedar text.
//!
//! ```toml
//! [authz.roles]
//! manager = ["bob"]
//!
//! [[authz.rule]]
//! roles = ["manager"]
//! tools = ["approve_expense"]
//! when = ["amount < 500"]
//! ```
//!
//! compiles to one policy per (role or principal, tool) — so every policy's scope names its
//! principal and tool and [`super::Authz::may_ever`] can hide the tools a principal can never
//! call:
//!
//! ```cedar
//! @id("rule-1:Role:manager:approve_expense")
//! permit (principal in Mcp::Role::"manager", action == Mcp::Action::"call_tool", resource == Mcp::Tool::"approve_expense")
//! when { context.arguments has "amount" && context.arguments["amount"].lessThan(decimal("500.0")) };
//! ```
//!
//! A condition is `PATH OP VALUE`: PATH an argument name, or names joined by `.` for nested
//! objects (a name that is not `[A-Za-z_][A-Za-z0-9_]*` is written as a JSON string:
//! `"odd key".x`); OP one of `<` `<=` `>` `>=` `==` `!=`; VALUE a number (compared as a Cedar
//! decimal), a JSON string or `true` / `false` (`==` and `!=` only). Every name in the path is
//! tested with `has` first, so a missing argument makes the condition false — and the rule does
//! not permit. Tool `"*"` is every tool of the server. Names never reach the Cedar text
//! unescaped: entity ids are written by Cedar's own `EntityUid` formatting, keys by
//! [`cedar_string`].

use std::str::FromStr;

use cedar_policy::{EntityId, EntityTypeName, EntityUid};

use crate::policy::Rule;

/// A Cedar string literal for `s` (quotes, backslashes and every non-printable or non-ASCII
/// character escaped).
pub fn cedar_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    out.push('"');
    out
}

fn entity(ty: &str, id: &str) -> Result<String, String> {
    let t = EntityTypeName::from_str(&format!("Mcp::{ty}")).map_err(|e| e.to_string())?;
    Ok(EntityUid::from_type_name_and_id(t, EntityId::new(id)).to_string())
}

#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Num(String),
    Str(String),
    Bool(bool),
}

/// Parses `PATH OP VALUE`.
fn condition(src: &str) -> Result<(Vec<String>, &'static str, Lit), String> {
    let s = src.trim();
    let mut path = Vec::new();
    let mut rest = s;
    loop {
        rest = rest.trim_start();
        if rest.starts_with('"') {
            // A JSON string: find its end with serde_json's own reader.
            let mut de = serde_json::Deserializer::from_str(rest).into_iter::<String>();
            let key = de
                .next()
                .ok_or_else(|| format!("{src:?}: expected an argument name"))?
                .map_err(|e| format!("{src:?}: a quoted argument name: {e}"))?;
            rest = &rest[de.byte_offset()..];
            path.push(key);
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let name = &rest[..end];
            if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
                return Err(format!(
                    "{src:?}: expected an argument name (quote a name that is not [A-Za-z_][A-Za-z0-9_]*)"
                ));
            }
            path.push(name.to_owned());
            rest = &rest[end..];
        }
        rest = rest.trim_start();
        match rest.strip_prefix('.') {
            Some(r) => rest = r,
            None => break,
        }
    }
    let ops = [
        ("<=", "<="),
        (">=", ">="),
        ("==", "=="),
        ("!=", "!="),
        ("<", "<"),
        (">", ">"),
    ];
    let (op, after) = ops
        .iter()
        .find_map(|(t, o)| rest.strip_prefix(t).map(|r| (*o, r)))
        .ok_or_else(|| format!("{src:?}: expected one of < <= > >= == != after the argument"))?;
    let v = after.trim();
    let lit = match v {
        "true" => Lit::Bool(true),
        "false" => Lit::Bool(false),
        _ if v.starts_with('"') => Lit::Str(
            serde_json::from_str::<String>(v).map_err(|e| format!("{src:?}: the string: {e}"))?,
        ),
        _ => {
            let n: serde_json::Number = serde_json::from_str(v).map_err(|_| {
                format!("{src:?}: {v:?} is not a number, a JSON string, true or false")
            })?;
            Lit::Num(super::args::decimal_text(&n).map_err(|e| format!("{src:?}: {e}"))?)
        }
    };
    if !matches!(lit, Lit::Num(_)) && !matches!(op, "==" | "!=") {
        return Err(format!(
            "{src:?}: only numbers compare with {op}; strings and booleans with == or !="
        ));
    }
    Ok((path, op, lit))
}

fn compile_condition(src: &str) -> Result<String, String> {
    let (path, op, lit) = condition(src)?;
    let mut guards = Vec::new();
    let mut expr = "context.arguments".to_owned();
    for k in &path {
        let key = cedar_string(k);
        guards.push(format!("{expr} has {key}"));
        expr = format!("{expr}[{key}]");
    }
    let cmp = match (&lit, op) {
        (Lit::Num(d), _) => {
            let d = format!("decimal({})", cedar_string(d));
            match op {
                "<" => format!("{expr}.lessThan({d})"),
                "<=" => format!("{expr}.lessThanOrEqual({d})"),
                ">" => format!("{expr}.greaterThan({d})"),
                ">=" => format!("{expr}.greaterThanOrEqual({d})"),
                _ => format!("{expr} {op} {d}"),
            }
        }
        (Lit::Str(s), _) => format!("{expr} {op} {}", cedar_string(s)),
        (Lit::Bool(b), _) => format!("{expr} {op} {b}"),
    };
    guards.push(cmp);
    Ok(guards.join(" && "))
}

/// The Cedar text of the rules, in order.
pub fn compile(rules: &[Rule]) -> Result<String, String> {
    let mut out = String::new();
    for (i, r) in rules.iter().enumerate() {
        let id = r.id.clone().unwrap_or_else(|| format!("rule-{}", i + 1));
        let conds: Vec<String> = r
            .when
            .iter()
            .map(|c| compile_condition(c))
            .collect::<Result<_, _>>()
            .map_err(|e| format!("[[authz.rule]] {id:?}: {e}"))?;
        let who = r
            .roles
            .iter()
            .map(|x| ("Role", x))
            .chain(r.principals.iter().map(|x| ("User", x)));
        let effect = if r.forbid { "forbid" } else { "permit" };
        for (ty, p) in who {
            for t in &r.tools {
                let resource = if t == "*" {
                    "resource is Mcp::Tool".to_owned()
                } else {
                    format!("resource == {}", entity("Tool", t)?)
                };
                let label = format!("{id}:{ty}:{p}:{t}");
                out.push_str(&format!(
                    "@id({})\n{effect} (principal in {}, action == Mcp::Action::\"call_tool\", {resource})",
                    cedar_string(&label),
                    entity(ty, p)?
                ));
                if !conds.is_empty() {
                    out.push_str(&format!("\nwhen {{ {} }}", conds.join(" && ")));
                }
                out.push_str(";\n\n");
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_compile_with_has_guards() {
        assert_eq!(
            compile_condition("amount < 500").unwrap(),
            r#"context.arguments has "amount" && context.arguments["amount"].lessThan(decimal("500.0"))"#
        );
        assert_eq!(
            compile_condition(r#"meta."odd \"key\"" == "x""#).unwrap(),
            r#"context.arguments has "meta" && context.arguments["meta"] has "odd \"key\"" && context.arguments["meta"]["odd \"key\""] == "x""#
        );
    }

    #[test]
    fn bad_conditions_are_refused() {
        for c in [
            "amount",
            "amount < ",
            "amount < 500.00001",
            "amount < 1e300",
            "name < \"x\"",
            "flag > true",
            "9x == 1",
            "amount =< 5",
            "amount < decimal(\"5\")",
        ] {
            assert!(compile_condition(c).is_err(), "{c} must be refused");
        }
    }

    #[test]
    fn hostile_names_stay_inside_their_strings() {
        let r = Rule {
            roles: vec![],
            principals: vec!["a\" || true || \"".into()],
            tools: vec!["x\"); permit(principal,action,resource);//".into()],
            ..Rule::default()
        };
        let text = compile(&[r]).unwrap();
        let set = cedar_policy::PolicySet::from_str(&text).unwrap();
        assert_eq!(set.policies().count(), 1, "{text}");
    }
}

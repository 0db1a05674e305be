//! The JSON walker: every string and object key of a value, at every depth, with its RFC 6901
//! pointer, the member name above it and the [`Role`] that decides which rules apply.
//! No rule lives here.

use serde_json::Value;

use super::Role;

/// Visits every string and object key in `v`: `f(string, pointer, field, role)`. `field` is
/// the nearest member name above the string. `name_field` is the entity's key field, whose
/// top-level value (and `title`) count as [`Role::Name`].
pub fn walk(v: &Value, name_field: &str, f: &mut dyn FnMut(&str, &str, &str, Role)) {
    fn go(
        v: &Value,
        pointer: &mut String,
        field: &str,
        depth: usize,
        name_field: &str,
        f: &mut dyn FnMut(&str, &str, &str, Role),
    ) {
        match v {
            Value::String(s) => {
                let role = if depth == 1 && (field == name_field || field == "title") {
                    Role::Name
                } else if matches!(field, "$schema" | "$id" | "$ref") {
                    Role::SchemaRef
                } else {
                    Role::Text
                };
                f(s, pointer, field, role);
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&i.to_string());
                    go(item, pointer, field, depth + 1, name_field, f);
                    pointer.truncate(len);
                }
            }
            Value::Object(map) => {
                for (k, item) in map {
                    let len = pointer.len();
                    crate::json::push_pointer_token(pointer, k);
                    f(k, pointer, field, Role::Key);
                    go(item, pointer, k, depth + 1, name_field, f);
                    pointer.truncate(len);
                }
            }
            _ => {}
        }
    }
    let mut pointer = String::new();
    go(v, &mut pointer, "", 0, name_field, f);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_visits_nested_strings_keys_and_arrays() {
        let v =
            serde_json::json!({"name":"t","inputSchema":{"properties":{"a/b":{"enum":["x","y"]}}}});
        let mut seen = Vec::new();
        walk(&v, "name", &mut |s, p, f, r| {
            seen.push((s.to_owned(), p.to_owned(), f.to_owned(), r))
        });
        assert!(seen.contains(&("t".into(), "/name".into(), "name".into(), Role::Name)));
        assert!(seen.contains(&(
            "y".into(),
            "/inputSchema/properties/a~1b/enum/1".into(),
            "enum".into(),
            Role::Text
        )));
        assert!(seen.contains(&(
            "a/b".into(),
            "/inputSchema/properties/a~1b".into(),
            "properties".into(),
            Role::Key
        )));
    }

    /// The role decides which rules apply: only the entity's own key and title are names,
    /// and only `$schema` / `$id` / `$ref` values are schema references, at any depth.
    #[test]
    fn roles_follow_the_member_and_its_depth() {
        let v = serde_json::json!({
            "uri": "file:///a", "title": "T", "name": "not the key here",
            "inputSchema": {"$schema": "https://json-schema.org/x", "title": "inner",
                            "properties": {"q": {"$ref": "#/$defs/q", "uri": "deep"}}}
        });
        let mut roles = std::collections::BTreeMap::new();
        walk(&v, "uri", &mut |s, p, _, r| {
            roles.insert(format!("{p}={s}"), r);
        });
        let role = |k: &str| roles.get(k).copied();
        assert_eq!(role("/uri=file:///a"), Some(Role::Name));
        assert_eq!(role("/title=T"), Some(Role::Name));
        assert_eq!(role("/name=not the key here"), Some(Role::Text));
        assert_eq!(role("/inputSchema/title=inner"), Some(Role::Text));
        assert_eq!(role("/inputSchema/properties/q/uri=deep"), Some(Role::Text));
        assert_eq!(
            role("/inputSchema/$schema=https://json-schema.org/x"),
            Some(Role::SchemaRef)
        );
        assert_eq!(
            role("/inputSchema/properties/q/$ref=#/$defs/q"),
            Some(Role::SchemaRef)
        );
        assert_eq!(role("/inputSchema/properties/q=q"), Some(Role::Key));
    }
}

//! A server's tool surface: what it announces, entity by entity, and the digests over it.
//!
//! The surface is what a server answers to `tools/list`, `prompts/list`, `resources/list` and
//! `resources/templates/list` (all pages), plus `instructions` and `serverInfo` from the
//! handshake. Each entity is kept as the raw JSON object that came off the wire and digested as
//! SHA-256 over its RFC 8785 canonical form — the whole object, never the bytes as sent.
//!
//! The surface digest is SHA-256 over the canonical form of
//! `{"instructions": <digest or null>, "prompts": {key: digest}, "resourceTemplates": {…},
//! "resources": {…}, "tools": {…}}` (all four kinds always present). See docs/formats.md.
//!
//! Capture lives in [`crate::mcp`]; diffs in [`diff`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::digest::Digest;
use crate::json::{self, JsonError};

pub mod diff;

/// The four kinds of entity a server announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EntityKind {
    Tools,
    Prompts,
    Resources,
    ResourceTemplates,
}

impl EntityKind {
    pub const ALL: [EntityKind; 4] = [
        EntityKind::Tools,
        EntityKind::Prompts,
        EntityKind::Resources,
        EntityKind::ResourceTemplates,
    ];

    /// The field that names an entity of this kind (its key in the surface).
    pub fn key_field(self) -> &'static str {
        match self {
            EntityKind::Tools | EntityKind::Prompts => "name",
            EntityKind::Resources => "uri",
            EntityKind::ResourceTemplates => "uriTemplate",
        }
    }
    /// The JSON-RPC method that lists this kind.
    pub fn list_method(self) -> &'static str {
        match self {
            EntityKind::Tools => "tools/list",
            EntityKind::Prompts => "prompts/list",
            EntityKind::Resources => "resources/list",
            EntityKind::ResourceTemplates => "resources/templates/list",
        }
    }
    /// The array field of the list result, also the kind's name in files.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Tools => "tools",
            EntityKind::Prompts => "prompts",
            EntityKind::Resources => "resources",
            EntityKind::ResourceTemplates => "resourceTemplates",
        }
    }
    /// Singular noun for messages: "tool", "prompt", "resource", "resource template".
    pub fn noun(self) -> &'static str {
        match self {
            EntityKind::Tools => "tool",
            EntityKind::Prompts => "prompt",
            EntityKind::Resources => "resource",
            EntityKind::ResourceTemplates => "resource template",
        }
    }
    /// The kind whose list method is `method`.
    pub fn from_list_method(method: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.list_method() == method)
    }
}

impl std::fmt::Display for EntityKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything a server announced, as received.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Surface {
    /// The protocol version the server agreed to.
    pub protocol_version: String,
    /// `serverInfo` from the handshake (name, version, …), as received.
    pub server_info: Value,
    /// The server's `instructions`, if any.
    pub instructions: Option<String>,
    /// Entities by kind, keyed by name / uri / uriTemplate, each the whole object as received.
    pub entities: BTreeMap<EntityKind, BTreeMap<String, Value>>,
}

/// An entity list could not be turned into a keyed map.
#[derive(Debug, thiserror::Error)]
pub enum SurfaceError {
    #[error("a {noun} in the {kind} list is not a JSON object")]
    NotAnObject {
        kind: EntityKind,
        noun: &'static str,
    },
    #[error("a {noun} in the {kind} list has no string `{field}`")]
    MissingKey {
        kind: EntityKind,
        noun: &'static str,
        field: &'static str,
    },
    #[error("two {kind} share the {field} {key:?}: the server's list is ambiguous")]
    DuplicateKey {
        kind: EntityKind,
        field: &'static str,
        key: String,
    },
    #[error("{kind} {key:?}: {source}")]
    Json {
        kind: EntityKind,
        key: String,
        source: JsonError,
    },
}

impl SurfaceError {
    pub fn code(&self) -> &'static str {
        match self {
            SurfaceError::NotAnObject { .. } => "entity-not-object",
            SurfaceError::MissingKey { .. } => "entity-missing-key",
            SurfaceError::DuplicateKey { .. } => "entity-duplicate-key",
            SurfaceError::Json { .. } => "entity-not-canonicalizable",
        }
    }
}

/// The digests of a surface.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurfaceDigests {
    /// The one digest over everything below.
    pub surface: Digest,
    pub instructions: Option<Digest>,
    pub entities: BTreeMap<EntityKind, BTreeMap<String, Digest>>,
}

/// SHA-256 over an entity's RFC 8785 canonical JSON.
pub fn entity_digest(entity: &Value) -> Result<Digest, JsonError> {
    json::canonical_digest(entity)
}

/// SHA-256 over the canonical JSON string of the instructions text.
pub fn instructions_digest(text: &str) -> Digest {
    // A JSON string always canonicalizes.
    json::canonical_digest(&Value::String(text.to_owned()))
        .unwrap_or_else(|_| Digest::of(text.as_bytes()))
}

/// Turns one kind's list (all pages concatenated) into a map keyed by the kind's key field.
pub fn keyed(kind: EntityKind, items: Vec<Value>) -> Result<BTreeMap<String, Value>, SurfaceError> {
    let field = kind.key_field();
    let mut out = BTreeMap::new();
    for item in items {
        let key = match &item {
            Value::Object(o) => match o.get(field) {
                Some(Value::String(s)) => s.clone(),
                _ => {
                    return Err(SurfaceError::MissingKey {
                        kind,
                        noun: kind.noun(),
                        field,
                    });
                }
            },
            _ => {
                return Err(SurfaceError::NotAnObject {
                    kind,
                    noun: kind.noun(),
                });
            }
        };
        if out.contains_key(&key) {
            return Err(SurfaceError::DuplicateKey { kind, field, key });
        }
        out.insert(key, item);
    }
    Ok(out)
}

/// Computes the surface digest from per-entity digests and the instructions digest.
pub fn surface_digest(
    instructions: Option<&Digest>,
    entities: &BTreeMap<EntityKind, BTreeMap<String, Digest>>,
) -> Digest {
    let mut top = serde_json::Map::new();
    top.insert(
        "instructions".into(),
        instructions.map_or(Value::Null, |d| Value::String(d.to_string())),
    );
    for kind in EntityKind::ALL {
        let m: serde_json::Map<String, Value> = entities
            .get(&kind)
            .into_iter()
            .flatten()
            .map(|(k, d)| (k.clone(), Value::String(d.to_string())))
            .collect();
        top.insert(kind.as_str().into(), Value::Object(m));
    }
    // Only strings and objects: canonicalization cannot fail.
    json::canonical_digest(&Value::Object(top)).unwrap_or(Digest([0; 32]))
}

impl Surface {
    /// Digest of every entity, the instructions, and the surface as a whole.
    pub fn digests(&self) -> Result<SurfaceDigests, SurfaceError> {
        use rayon::prelude::*;
        let mut entities = BTreeMap::new();
        for (kind, items) in &self.entities {
            // Canonicalizing is the cost; entities are independent, so use every core.
            let m = items
                .par_iter()
                .map(|(key, v)| {
                    entity_digest(v)
                        .map(|d| (key.clone(), d))
                        .map_err(|source| SurfaceError::Json {
                            kind: *kind,
                            key: key.clone(),
                            source,
                        })
                })
                .collect::<Result<BTreeMap<_, _>, _>>()?;
            entities.insert(*kind, m);
        }
        let instructions = self.instructions.as_deref().map(instructions_digest);
        Ok(SurfaceDigests {
            surface: surface_digest(instructions.as_ref(), &entities),
            instructions,
            entities,
        })
    }

    /// Number of entities across all kinds.
    pub fn len(&self) -> usize {
        self.entities.values().map(BTreeMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entity_digest_ignores_key_order_but_not_content() {
        let a = json!({"name":"add","description":"Add","inputSchema":{"type":"object","properties":{"a":{"type":"number"}}}});
        let b = crate::json::parse_strict(
            br#"{"inputSchema":{"properties":{"a":{"type":"number"}},"type":"object"},"description":"Add","name":"add"}"#,
        )
        .unwrap();
        assert_eq!(entity_digest(&a).unwrap(), entity_digest(&b).unwrap());
        let c = json!({"name":"add","description":"Add","inputSchema":{"type":"object","properties":{"a":{"type":"number","description":"x"}}}});
        assert_ne!(entity_digest(&a).unwrap(), entity_digest(&c).unwrap());
    }

    #[test]
    fn keyed_rejects_duplicates_and_missing_keys() {
        let dup = vec![json!({"name":"a"}), json!({"name":"a"})];
        assert!(matches!(
            keyed(EntityKind::Tools, dup),
            Err(SurfaceError::DuplicateKey { .. })
        ));
        assert!(matches!(
            keyed(EntityKind::Resources, vec![json!({"name":"a"})]),
            Err(SurfaceError::MissingKey { field: "uri", .. })
        ));
        assert!(matches!(
            keyed(EntityKind::Tools, vec![json!(1)]),
            Err(SurfaceError::NotAnObject { .. })
        ));
    }

    #[test]
    fn surface_digest_changes_with_instructions_and_with_any_entity() {
        let mut s = Surface::default();
        s.entities.insert(
            EntityKind::Tools,
            keyed(EntityKind::Tools, vec![json!({"name":"a"})]).unwrap(),
        );
        let d0 = s.digests().unwrap().surface;
        s.instructions = Some("be nice".into());
        let d1 = s.digests().unwrap().surface;
        assert_ne!(d0, d1);
        s.entities.insert(
            EntityKind::Prompts,
            keyed(EntityKind::Prompts, vec![json!({"name":"a"})]).unwrap(),
        );
        assert_ne!(d1, s.digests().unwrap().surface);
    }
}

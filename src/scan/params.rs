//! Attacks carried by names alone (issue 16): a parameter whose *name* asks for a secret or
//! for the conversation (`system_prompt`, `chatHistory`, `aws-secret-access-key`,
//! `ssh_private_key`, `tool_list`). The model fills every parameter it is shown, so a name is
//! as much an order as a description.
//!
//! Names are split on `_`, `-`, `.`, spaces and case changes (`chatHistory` → `chat`,
//! `history`) and the parts are matched as words, never as substrings (`creditsUsed` is not
//! `credentials`). A parameter whose schema type is boolean or a number cannot carry text,
//! so `include_last_message: boolean` is a flag, not a channel.

use serde_json::Value;

use super::Code;
use super::text::Hit;
use crate::severity::Severity;

/// Splits a member name into lowercase words; look-alike letters read as their ASCII
/// (`sуstem_prompt` with a Cyrillic `у` is `system`, `prompt`).
pub fn name_parts(name: &str) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut prev: Option<char> = None;
    for c in name.chars() {
        let c = if c.is_ascii() {
            c
        } else {
            super::text::ascii_look_alike(c).unwrap_or(c)
        };
        let boundary = !c.is_alphanumeric()
            || (c.is_uppercase() && prev.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit()));
        if boundary && !cur.is_empty() {
            parts.push(std::mem::take(&mut cur));
        }
        if c.is_alphanumeric() {
            cur.extend(c.to_lowercase());
        }
        prev = Some(c);
    }
    if !cur.is_empty() {
        parts.push(cur);
    }
    parts
}

/// Whether the schema of a property can hold only a flag or a number.
pub fn carries_no_text(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => matches!(t.as_str(), "boolean" | "integer" | "number" | "null"),
        Some(Value::Array(ts)) => ts.iter().all(|t| {
            t.as_str()
                .is_some_and(|t| matches!(t, "boolean" | "integer" | "number" | "null"))
        }),
        _ => false,
    }
}

/// What a parameter name asks for, if it asks for a secret or the conversation.
pub fn scan_param_name(name: &str, schema: &Value) -> Option<Hit> {
    if carries_no_text(schema) {
        return None;
    }
    let parts = name_parts(name);
    let has = |w: &[&str]| parts.iter().any(|p| w.contains(&p.as_str()));
    let conversation = has(&[
        "conversation",
        "conversations",
        "chat",
        "dialog",
        "dialogue",
        "transcript",
    ]) && has(&[
        "history",
        "log",
        "logs",
        "transcript",
        "context",
        "messages",
        "so",
        "full",
        "entire",
        "whole",
    ]) || has(&["conversation", "transcript"]) && parts.len() == 1
        || has(&["previous", "prior", "last", "earlier", "past"])
            && has(&[
                "message",
                "messages",
                "prompt",
                "prompts",
                "question",
                "conversation",
                "chat",
                "input",
            ])
        || has(&["message", "messages", "chat"]) && has(&["history"]);
    let system_prompt = has(&["system", "assistant", "developer"])
        && has(&["prompt", "prompts", "instructions", "message"]);
    let tool_list = has(&["tool", "tools", "function", "functions"])
        && has(&[
            "list",
            "available",
            "all",
            "definitions",
            "descriptions",
            "schemas",
        ]);
    let secret = has(&["ssh", "rsa", "ed25519", "pem", "gpg", "pgp"])
        && has(&["key", "keys", "private", "rsa", "id", "ed25519"])
        || has(&["private"]) && has(&["key", "keys"])
        || has(&["secret"]) && has(&["key", "access", "token"])
        || has(&["seed", "recovery"]) && has(&["phrase", "words"])
        || has(&["credentials", "credential", "passphrase", "mnemonic"])
            && !has(&["id", "name", "type", "path", "file", "count"])
        || has(&["aws", "gcp", "azure"]) && has(&["secret", "credentials", "token"]);
    let (code, what) = if system_prompt {
        (Code::Exfiltration, "the system prompt")
    } else if conversation {
        (Code::Exfiltration, "the conversation")
    } else if tool_list {
        (Code::Exfiltration, "the model's list of tools")
    } else if secret {
        (Code::SensitivePath, "a key or credential")
    } else {
        return None;
    };
    Some(Hit {
        code,
        severity: Severity::High,
        offset: 0,
        reason: format!(
            "parameter `{}` asks by its name for {what} (name parts: {})",
            super::printable(name),
            parts.join(", ")
        ),
    })
}

/// Every `properties` member of `entity` at any depth: (pointer to the property, name,
/// schema). Nested objects and `$defs` included.
pub fn properties<'v>(entity: &'v Value, out: &mut Vec<(String, &'v str, &'v Value)>) {
    fn go<'v>(v: &'v Value, pointer: &str, out: &mut Vec<(String, &'v str, &'v Value)>) {
        match v {
            Value::Object(map) => {
                for (k, item) in map {
                    let here = crate::json::pointer_child(pointer, k);
                    if k == "properties"
                        && let Value::Object(props) = item
                    {
                        for (name, schema) in props {
                            let at = crate::json::pointer_child(&here, name);
                            out.push((at.clone(), name.as_str(), schema));
                            go(schema, &at, out);
                        }
                    } else {
                        go(item, &here, out);
                    }
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    go(item, &format!("{pointer}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    go(entity, "", out);
}

/// Whether the string at `pointer` in `entity` describes a flag or number parameter (its
/// `description` or `title`): conversation words there name an option, not a channel.
pub fn describes_flag(entity: &Value, pointer: &str) -> bool {
    let Some(parent) = pointer.rsplit_once('/').map(|(p, _)| p) else {
        return false;
    };
    entity.pointer(parent).is_some_and(carries_no_text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_split_on_separators_and_case() {
        assert_eq!(name_parts("chatHistory"), ["chat", "history"]);
        assert_eq!(
            name_parts("aws-secret-access-key"),
            ["aws", "secret", "access", "key"]
        );
        assert_eq!(name_parts("SYSTEM_PROMPT"), ["system", "prompt"]);
        assert_eq!(name_parts("ssh.privateKey"), ["ssh", "private", "key"]);
        // The ways around the split: invisible separators, look-alike letters.
        assert_eq!(name_parts("system\u{200b}prompt"), ["system", "prompt"]);
        assert_eq!(name_parts("s\u{0443}stem_prompt"), ["system", "prompt"]);
    }

    #[test]
    fn names_that_ask_for_secrets_or_the_conversation() {
        let s = json!({"type": "string"});
        for n in [
            "system_prompt",
            "assistantSystemPrompt",
            "conversation_history",
            "chatHistory",
            "previous_messages",
            "last-user-message",
            "aws_secret_access_key",
            "ssh_private_key",
            "privateKey",
            "available_tools",
            "credentials",
        ] {
            assert!(scan_param_name(n, &s).is_some(), "{n}");
        }
    }

    #[test]
    fn ordinary_names_are_not_findings() {
        let s = json!({"type": "string"});
        for n in [
            "password",
            "token",
            "page_token",
            "commit_message",
            "prompt",
            "promptText",
            "creditsUsed",
            "key",
            "fileKey",
            "message",
            "environmentID",
            "secretType",
            "thoughtHistoryLength",
            "keywords",
            "credential_id",
            "tool_name",
            "seed_ids",
        ] {
            assert!(scan_param_name(n, &s).is_none(), "{n}");
        }
        // Limits (docs/findings.md): abbreviations and names spelled apart.
        for n in ["sysPrompt", "hist", "s_y_s_t_e_m_prompt"] {
            assert!(scan_param_name(n, &s).is_none(), "{n}");
        }
        // A boolean flag cannot carry the message it is named after.
        assert!(scan_param_name("include_last_message", &json!({"type": "boolean"})).is_none());
        assert!(scan_param_name("include_last_message", &s).is_some());
    }

    #[test]
    fn flag_descriptions_are_recognised() {
        let e = json!({"inputSchema": {"properties": {"include_last_message": {"type": "boolean", "title": "Include Last Message"}}}});
        assert!(describes_flag(
            &e,
            "/inputSchema/properties/include_last_message/title"
        ));
        assert!(!describes_flag(&e, "/inputSchema/properties"));
    }
}

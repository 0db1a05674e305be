//! Who may call what: Cedar authorization of the gate's requests, over the **pinned** surface.
//!
//! [`Authz::build`] compiles a policy's `[authz]` (a Cedar file and/or the TOML rules of
//! [`rules`]) for one server and one principal, validates every policy strictly against a
//! schema generated from that server's pinned tools, prompts and resources (a warning is an
//! error), and builds the entities once: `Mcp::User::"<principal>"` in its `Mcp::Role`s,
//! `Mcp::Server::"<server>"`, and one `Mcp::Tool` / `Mcp::Prompt` / `Mcp::Resource` per pinned
//! entity, whose attributes (`readOnlyHint`, `destructiveHint`, `idempotentHint`,
//! `openWorldHint`) come from the pinned definition — never from what the live server says
//! now, so a rug pull that flips an annotation changes no decision.
//!
//! [`Authz::decide`] is pure and fails closed: no permit, a forbid, any evaluation error, or an
//! argument that cannot be represented in Cedar exactly ([`args`]) is a deny that names why and
//! which policies decided. [`Authz::may_list`] decides *seeing* an entity in a list
//! (`list_tools`, `list_prompts`, `list_resources`), only when a policy names that action, so
//! a policy set without list rules lists exactly as before. What does not live here: canaries ([`canary`]), rate and size limits
//! ([`limits`]), and the proxy that asks ([`crate::gate::proxy`]).

pub mod args;
pub mod canary;
pub mod limits;
pub mod rules;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::str::FromStr;

use cedar_policy::{
    ActionConstraint, Authorizer, Context, Entities, Entity, EntityId, EntityTypeName, EntityUid,
    PolicySet, PrincipalConstraint, Request, ResourceConstraint, RestrictedExpression, Schema,
    ValidationMode, Validator,
};
use serde_json::{Value, json};

use crate::lock::ServerEntry;
use crate::policy::AuthzSpec;

/// The annotations a tool entity carries as attributes (from its pinned definition).
pub const HINTS: [&str; 4] = [
    "readOnlyHint",
    "destructiveHint",
    "idempotentHint",
    "openWorldHint",
];

/// What a request asks to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    CallTool,
    GetPrompt,
    ReadResource,
    /// Seeing a tool in `tools/list` (decided only when a policy's action scope names it).
    ListTools,
    /// Seeing a prompt in `prompts/list`.
    ListPrompts,
    /// Seeing a resource or template in `resources/list` / `resources/templates/list`.
    ListResources,
}

impl Act {
    /// The Cedar action id (`Mcp::Action::"call_tool"`).
    pub fn action_id(self) -> &'static str {
        match self {
            Act::CallTool => "call_tool",
            Act::GetPrompt => "get_prompt",
            Act::ReadResource => "read_resource",
            Act::ListTools => "list_tools",
            Act::ListPrompts => "list_prompts",
            Act::ListResources => "list_resources",
        }
    }
    fn resource_type(self) -> &'static str {
        match self {
            Act::CallTool | Act::ListTools => "Tool",
            Act::GetPrompt | Act::ListPrompts => "Prompt",
            Act::ReadResource | Act::ListResources => "Resource",
        }
    }
    /// The list action for entities of `kind`.
    pub fn list_of(kind: crate::surface::EntityKind) -> Act {
        use crate::surface::EntityKind;
        match kind {
            EntityKind::Tools => Act::ListTools,
            EntityKind::Prompts => Act::ListPrompts,
            EntityKind::Resources | EntityKind::ResourceTemplates => Act::ListResources,
        }
    }
    /// The list actions.
    const LISTS: [Act; 3] = [Act::ListTools, Act::ListPrompts, Act::ListResources];
}

/// The answer for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub allow: bool,
    /// Stable reason code: `authz-permitted`, `authz-no-permit`, `authz-forbidden`,
    /// `authz-eval-error`, `authz-unrepresentable`, `authz-request-invalid`.
    pub reason: &'static str,
    /// For people: what decided.
    pub message: String,
    /// The ids of the policies that decided (`@id("…")`, else Cedar's `policyN`).
    pub policies: Vec<String>,
}

/// Why `[authz]` cannot be used for this server.
#[derive(Debug, thiserror::Error)]
pub enum AuthzError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Rules(String),
}

impl AuthzError {
    pub fn code(&self) -> &'static str {
        match self {
            AuthzError::Invalid(_) => "authz-invalid",
            AuthzError::Rules(_) => "authz-rule-invalid",
        }
    }
}

/// `[authz]` compiled for one server and one principal.
pub struct Authz {
    server: String,
    principal: String,
    policies: PolicySet,
    /// Cedar's policy id → the id reported (the `@id` annotation when there is one).
    labels: HashMap<String, String>,
    schema: Schema,
    entities: Entities,
    principal_uid: EntityUid,
    /// The principal and its roles (for [`Authz::may_ever`]).
    ancestry: HashSet<EntityUid>,
    server_uid: EntityUid,
    authorizer: Authorizer,
    /// Per (action, pinned entity): only the policies whose scope can match this principal,
    /// action and entity. Cedar decides a policy whose scope does not match as not
    /// satisfied without looking at its conditions, so leaving those out decides exactly the
    /// same — in a few policies' time instead of all of them. Any other name: all policies.
    scoped: HashMap<(&'static str, String), PolicySet>,
    /// Per action: the Cedar type each argument must have (from the schema).
    arg_types: BTreeMap<&'static str, BTreeMap<String, args::ArgType>>,
    /// The list actions some policy's action scope names (`action == Mcp::Action::"list_tools"`
    /// or `action in [...]` with it): only those are decided when a list is filtered. An
    /// unconstrained `action` names none, so a policy set without list rules lists exactly
    /// as before they existed.
    list_rules: HashSet<&'static str>,
}

fn uid(ty: &str, id: &str) -> Result<EntityUid, AuthzError> {
    // The type names are ours (`Mcp::…`); the id is any string and never parsed as Cedar, so a
    // principal or tool named `a" || true || "` is just that id.
    let t = EntityTypeName::from_str(&format!("Mcp::{ty}"))
        .map_err(|e| AuthzError::Invalid(format!("entity type Mcp::{ty}: {e}")))?;
    Ok(EntityUid::from_type_name_and_id(t, EntityId::new(id)))
}

/// The whole Cedar text `[authz]` amounts to: the Cedar file, then the compiled rules.
pub fn cedar_text(spec: &AuthzSpec) -> Result<String, AuthzError> {
    let mut text = String::new();
    if let Some((_, c)) = &spec.cedar {
        text.push_str(c);
        if !c.ends_with('\n') {
            text.push('\n');
        }
    }
    if !spec.rules.is_empty() {
        text.push_str(&rules::compile(&spec.rules).map_err(AuthzError::Rules)?);
    }
    Ok(text)
}

impl Authz {
    /// Compiles and validates `spec` for `server` (pinned as `entry`) and `principal`.
    pub fn build(
        spec: &AuthzSpec,
        server: &str,
        entry: &ServerEntry,
        principal: &str,
    ) -> Result<Authz, AuthzError> {
        let (schema_json, arg_types) = schema::generate(entry);
        let schema = Schema::from_json_value(schema_json).map_err(|e| {
            AuthzError::Invalid(format!(
                "the schema generated from the pinned surface of {server:?} is not valid Cedar: {e}"
            ))
        })?;
        let text = cedar_text(spec)?;
        let where_ = spec
            .cedar
            .as_ref()
            .map(|(p, _)| p.display().to_string())
            .unwrap_or_else(|| "[[authz.rule]]".into());
        let policies = PolicySet::from_str(&text).map_err(|e| {
            AuthzError::Invalid(format!("{where_}: not valid Cedar: {}", render(&e)))
        })?;
        if policies.policies().next().is_none() {
            return Err(AuthzError::Invalid(format!(
                "{where_}: no policies: it would deny every call"
            )));
        }
        if policies.templates().next().is_some() {
            return Err(AuthzError::Invalid(format!(
                "{where_}: policy templates are not supported; write static policies"
            )));
        }
        let v = Validator::new(schema.clone()).validate(&policies, ValidationMode::Strict);
        let mut problems: Vec<String> = v.validation_errors().map(|e| render(e)).collect();
        problems.extend(
            v.validation_warnings()
                .map(|w| format!("warning: {}", render(w))),
        );
        if !problems.is_empty() {
            return Err(AuthzError::Invalid(format!(
                "{where_} does not validate against the pinned surface of {server:?} (strict; warnings are errors):\n  {}",
                problems.join("\n  ")
            )));
        }
        let mut labels = HashMap::new();
        let mut seen = HashSet::new();
        for p in policies.policies() {
            let label = p
                .annotation("id")
                .map(str::to_owned)
                .unwrap_or_else(|| p.id().to_string());
            if !seen.insert(label.clone()) {
                return Err(AuthzError::Invalid(format!(
                    "{where_}: two policies carry @id({label:?}): the audit log could not tell them apart"
                )));
            }
            labels.insert(p.id().to_string(), label);
        }
        let principal_uid = uid("User", principal)?;
        let server_uid = uid("Server", server)?;
        let mut ancestry = HashSet::from([principal_uid.clone()]);
        let mut ents = Vec::new();
        for (role, members) in &spec.roles {
            let r = uid("Role", role)?;
            if members.iter().any(|m| m == principal) {
                ancestry.insert(r.clone());
            }
            ents.push(Entity::new_no_attrs(r, HashSet::new()));
        }
        let parents: HashSet<EntityUid> = ancestry
            .iter()
            .filter(|u| **u != principal_uid)
            .cloned()
            .collect();
        ents.push(Entity::new_no_attrs(principal_uid.clone(), parents));
        ents.push(Entity::new_no_attrs(server_uid.clone(), HashSet::new()));
        let in_server = HashSet::from([server_uid.clone()]);
        for (name, t) in &entry.tools {
            let mut attrs = HashMap::new();
            if let Some(a) = t.definition.get("annotations").and_then(Value::as_object) {
                for h in HINTS {
                    if let Some(b) = a.get(h).and_then(Value::as_bool) {
                        attrs.insert(h.to_owned(), RestrictedExpression::new_bool(b));
                    }
                }
            }
            let e = Entity::new(uid("Tool", name)?, attrs, in_server.clone())
                .map_err(|e| AuthzError::Invalid(format!("tool {name:?}: {e}")))?;
            ents.push(e);
        }
        for name in entry.prompts.keys() {
            ents.push(Entity::new_no_attrs(
                uid("Prompt", name)?,
                in_server.clone(),
            ));
        }
        for name in entry
            .resources
            .keys()
            .chain(entry.resource_templates.keys())
        {
            ents.push(Entity::new_no_attrs(
                uid("Resource", name)?,
                in_server.clone(),
            ));
        }
        let mut list_rules = HashSet::new();
        for p in policies.policies() {
            for list in Act::LISTS {
                let named = uid("Action", list.action_id())?;
                let names = match p.action_constraint() {
                    ActionConstraint::Any => false,
                    ActionConstraint::Eq(u) => u == named,
                    ActionConstraint::In(v) => v.contains(&named),
                };
                if names {
                    list_rules.insert(list.action_id());
                }
            }
        }
        let entities = Entities::from_entities(ents, Some(&schema))
            .map_err(|e| AuthzError::Invalid(format!("entities of {server:?}: {}", render(&e))))?;
        let mut z = Authz {
            server: server.to_owned(),
            principal: principal.to_owned(),
            policies,
            labels,
            schema,
            entities,
            principal_uid,
            ancestry,
            server_uid,
            authorizer: Authorizer::new(),
            scoped: HashMap::new(),
            arg_types,
            list_rules,
        };
        let resources: Vec<&String> = entry
            .resources
            .keys()
            .chain(entry.resource_templates.keys())
            .collect();
        let keyed = [
            (Act::CallTool, entry.tools.keys().collect::<Vec<_>>()),
            (Act::GetPrompt, entry.prompts.keys().collect()),
            (Act::ReadResource, resources.clone()),
            (Act::ListTools, entry.tools.keys().collect()),
            (Act::ListPrompts, entry.prompts.keys().collect()),
            (Act::ListResources, resources),
        ];
        for (act, names) in keyed {
            for name in names {
                let mut set = PolicySet::new();
                for p in z
                    .policies
                    .policies()
                    .filter(|p| z.scope_may_match(p, act, name))
                {
                    set.add(p.clone())
                        .map_err(|e| AuthzError::Invalid(render(&e)))?;
                }
                z.scoped.insert((act.action_id(), name.clone()), set);
            }
        }
        Ok(z)
    }

    pub fn principal(&self) -> &str {
        &self.principal
    }

    fn label(&self, id: &cedar_policy::PolicyId) -> String {
        let id = id.to_string();
        self.labels.get(&id).cloned().unwrap_or(id)
    }

    /// Decides one request: `act` on the entity named `name`, with these arguments (a JSON
    /// object, or absent). Fails closed.
    pub fn decide(&self, act: Act, name: &str, arguments: Option<&Value>) -> Verdict {
        let deny = |reason, message: String| Verdict {
            allow: false,
            reason,
            message,
            policies: Vec::new(),
        };
        let empty = serde_json::Map::new();
        let arguments = match arguments {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(o)) => o,
            Some(_) => {
                return deny(
                    "authz-unrepresentable",
                    "the arguments are not a JSON object".into(),
                );
            }
        };
        let types = self.arg_types.get(act.action_id());
        let record = match args::to_record(arguments, types) {
            Ok(r) => r,
            Err(why) => return deny("authz-unrepresentable", why),
        };
        let context = match Context::from_pairs([
            ("arguments".to_owned(), record),
            (
                "server".to_owned(),
                RestrictedExpression::new_string(self.server.clone()),
            ),
        ]) {
            Ok(c) => c,
            Err(e) => return deny("authz-unrepresentable", render(&e)),
        };
        let resource = match uid(act.resource_type(), name) {
            Ok(u) => u,
            Err(e) => return deny("authz-request-invalid", e.to_string()),
        };
        let action = match uid("Action", act.action_id()) {
            Ok(u) => u,
            Err(e) => return deny("authz-request-invalid", e.to_string()),
        };
        let request = match Request::new(
            self.principal_uid.clone(),
            action,
            resource,
            context,
            Some(&self.schema),
        ) {
            Ok(r) => r,
            Err(e) => {
                return deny(
                    "authz-request-invalid",
                    format!("the request does not fit the pinned schema: {}", render(&e)),
                );
            }
        };
        let set = self
            .scoped
            .get(&(act.action_id(), name.to_owned()))
            .unwrap_or(&self.policies);
        let resp = self.authorizer.is_authorized(&request, set, &self.entities);
        let d = resp.diagnostics();
        let errors: Vec<String> = d
            .errors()
            .map(|e| {
                let cedar_policy::AuthorizationError::PolicyEvaluationError(pe) = e;
                format!("{}: {}", self.label(pe.policy_id()), render(e))
            })
            .collect();
        let policies: Vec<String> = {
            let mut v: Vec<String> = d.reason().map(|p| self.label(p)).collect();
            v.sort();
            v
        };
        if !errors.is_empty() {
            // Cedar skips a policy whose evaluation errs; a skipped forbid could have denied,
            // a skipped permit could be the one a policy author relied on. Either way: deny.
            return Verdict {
                allow: false,
                reason: "authz-eval-error",
                message: format!("a policy could not be evaluated: {}", errors.join("; ")),
                policies: errors
                    .iter()
                    .filter_map(|e| e.split(':').next().map(str::to_owned))
                    .collect(),
            };
        }
        match resp.decision() {
            cedar_policy::Decision::Allow => Verdict {
                allow: true,
                reason: "authz-permitted",
                message: format!("permitted by {}", policies.join(", ")),
                policies,
            },
            cedar_policy::Decision::Deny if policies.is_empty() => Verdict {
                allow: false,
                reason: "authz-no-permit",
                message: "no policy permits it".into(),
                policies,
            },
            cedar_policy::Decision::Deny => Verdict {
                allow: false,
                reason: "authz-forbidden",
                message: format!("forbidden by {}", policies.join(", ")),
                policies,
            },
        }
    }

    /// Whether this principal may *see* the entity `name` in a list, by the list action `act`
    /// (`list_tools`, `list_prompts`, `list_resources`): `None` when no policy's action scope
    /// names that action (the list is then filtered as without list rules), else the verdict
    /// of deciding it — with empty arguments, so a condition on `context.arguments` does not
    /// hold. This is in addition to [`Authz::may_ever`] for tools, and independent of calling:
    /// a tool hidden from the list is still decided by `call_tool` when called.
    pub fn may_list(&self, act: Act, name: &str) -> Option<Verdict> {
        self.list_rules
            .contains(act.action_id())
            .then(|| self.decide(act, name, None))
    }

    /// Whether some permit's scope (principal, action, resource — conditions aside) covers
    /// this principal doing `act` on `name`. A tool for which this is false can never be
    /// called by the principal, and is removed from its `tools/list`.
    pub fn may_ever(&self, act: Act, name: &str) -> bool {
        self.policies
            .policies()
            .filter(|p| p.effect() == cedar_policy::Effect::Permit)
            .any(|p| self.scope_may_match(p, act, name))
    }

    /// Whether `p`'s scope can match this principal doing `act` on `name` (over-inclusive: a
    /// resource is taken to be in its server even when it is not a pinned entity).
    fn scope_may_match(&self, p: &cedar_policy::Policy, act: Act, name: &str) -> bool {
        let (Ok(resource), Ok(action)) = (
            uid(act.resource_type(), name),
            uid("Action", act.action_id()),
        ) else {
            return true;
        };
        let in_res = |u: &EntityUid| *u == resource || *u == self.server_uid;
        {
            {
                let pr = match p.principal_constraint() {
                    PrincipalConstraint::Any => true,
                    PrincipalConstraint::Eq(u) => u == self.principal_uid,
                    PrincipalConstraint::In(u) | PrincipalConstraint::IsIn(_, u) => {
                        self.ancestry.contains(&u)
                    }
                    PrincipalConstraint::Is(t) => t == self.principal_uid.type_name().clone(),
                };
                let ac = match p.action_constraint() {
                    ActionConstraint::Any => true,
                    ActionConstraint::Eq(u) => u == action,
                    ActionConstraint::In(v) => v.contains(&action),
                };
                let re = match p.resource_constraint() {
                    ResourceConstraint::Any => true,
                    ResourceConstraint::Eq(u) => u == resource,
                    ResourceConstraint::In(u) | ResourceConstraint::IsIn(_, u) => in_res(&u),
                    ResourceConstraint::Is(t) => t == resource.type_name().clone(),
                };
                pr && ac && re
            }
        }
    }

    /// The tools of `entry` this principal may ever call, in name order.
    pub fn callable_tools<'a>(&self, entry: &'a ServerEntry) -> BTreeSet<&'a str> {
        entry
            .tools
            .keys()
            .filter(|t| self.may_ever(Act::CallTool, t))
            .map(String::as_str)
            .collect()
    }

    /// The schema generated for this server, in Cedar's JSON schema format.
    pub fn schema_json(entry: &ServerEntry) -> Value {
        schema::generate(entry).0
    }
}

/// What the gate checks on each request beyond the pins, for one session's server: `[authz]`,
/// `[canary]` and the server's limits. Built in [`crate::gate::prepare`].
#[derive(Clone, Default)]
pub struct Guards {
    pub authz: Option<std::sync::Arc<Authz>>,
    pub canary: Option<std::sync::Arc<canary::Canary>>,
    pub limits: crate::policy::Limits,
    /// Who the session acts for (in every authorization, canary and limit event).
    pub principal: Option<String>,
}

impl std::fmt::Debug for Guards {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guards")
            .field("authz", &self.authz.is_some())
            .field("canary", &self.canary)
            .field("limits", &self.limits)
            .field("principal", &self.principal)
            .finish()
    }
}

/// A Cedar diagnostic as one line (miette's own rendering includes help and sources).
fn render(e: &dyn std::fmt::Display) -> String {
    e.to_string().replace('\n', " ")
}

/// The Cedar schema generated from a pinned surface.
pub mod schema {
    use super::*;

    /// `(schema in Cedar's JSON format, per action the type of each argument)`.
    ///
    /// `context.arguments` is a closed record of every argument the server's pinned tools (or
    /// prompts) declare, each optional (a client may leave any out, so a policy must test
    /// `context.arguments has amount`). JSON Schema `string` is `String`, `number` and
    /// `integer` are `decimal`, `boolean` is `Bool`, `object` with `properties` is a record,
    /// `array` with `items` of one of those scalar types is a `Set` of it; anything else
    /// (other arrays, unions, `null`, no `type`), and an argument two tools declare
    /// with different types, is left out — a call that passes it is denied.
    pub fn generate(
        entry: &ServerEntry,
    ) -> (
        Value,
        BTreeMap<&'static str, BTreeMap<String, args::ArgType>>,
    ) {
        let mut tool_args: BTreeMap<String, Option<args::ArgType>> = BTreeMap::new();
        for t in entry.tools.values() {
            let props = t
                .definition
                .pointer("/inputSchema/properties")
                .and_then(Value::as_object);
            for (k, s) in props.into_iter().flatten() {
                let ty = args::ArgType::from_json_schema(s, 0);
                match tool_args.get(k) {
                    Some(prev) if *prev != ty => {
                        tool_args.insert(k.clone(), None);
                    }
                    Some(_) => {}
                    None => {
                        tool_args.insert(k.clone(), ty);
                    }
                }
            }
        }
        let tool_args: BTreeMap<String, args::ArgType> = tool_args
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect();
        let mut prompt_args = BTreeMap::new();
        for p in entry.prompts.values() {
            for a in p
                .definition
                .get("arguments")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(n) = a.get("name").and_then(Value::as_str) {
                    prompt_args.insert(n.to_owned(), args::ArgType::String);
                }
            }
        }
        let hints: serde_json::Map<String, Value> = HINTS
            .iter()
            .map(|h| {
                (
                    (*h).to_owned(),
                    json!({"type": "Boolean", "required": false}),
                )
            })
            .collect();
        let ctx = |a: &BTreeMap<String, args::ArgType>| {
            json!({"type": "Record", "attributes": {
                "arguments": args::ArgType::Record(a.clone()).schema(true),
                "server": {"type": "String"},
            }})
        };
        let action = |res: &str, c: Value| json!({"appliesTo": {"principalTypes": ["User"], "resourceTypes": [res], "context": c}});
        let schema = json!({"Mcp": {
            "entityTypes": {
                "Role": {},
                "User": {"memberOfTypes": ["Role"]},
                "Server": {},
                "Tool": {"memberOfTypes": ["Server"], "shape": {"type": "Record", "attributes": hints}},
                "Prompt": {"memberOfTypes": ["Server"]},
                "Resource": {"memberOfTypes": ["Server"]},
            },
            // A list action has its entity's call action's context type (its `arguments` are
            // always empty), so a policy with an unconstrained `action` that validated before
            // list actions existed validates the same.
            "actions": {
                "call_tool": action("Tool", ctx(&tool_args)),
                "get_prompt": action("Prompt", ctx(&prompt_args)),
                "read_resource": action("Resource", ctx(&BTreeMap::new())),
                "list_tools": action("Tool", ctx(&tool_args)),
                "list_prompts": action("Prompt", ctx(&prompt_args)),
                "list_resources": action("Resource", ctx(&BTreeMap::new())),
            },
        }});
        let mut types = BTreeMap::new();
        types.insert("call_tool", tool_args.clone());
        types.insert("get_prompt", prompt_args.clone());
        types.insert("read_resource", BTreeMap::new());
        types.insert("list_tools", tool_args);
        types.insert("list_prompts", prompt_args);
        types.insert("list_resources", BTreeMap::new());
        (schema, types)
    }
}

#[cfg(test)]
pub(crate) mod tests;

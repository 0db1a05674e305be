//! The gate's proxy core: a pure state machine between an MCP client and a server.
//!
//! [`Proxy::on_client`] and [`Proxy::on_server`] take one parsed message and return the
//! [`Action`]s to carry out — forward, replace, answer, drop, end, and the audit records that
//! say why. No I/O, no threads, no clock: the process shell in [`super::session`] does those, and
//! every rule here is a unit test (and a fuzz target's oracle).
//!
//! **Gate-issued ids.** Every request the gate forwards to the server carries an id the gate
//! chose (1, 2, 3, … as JSON integers); the client's own id is kept aside and put back on the
//! answer. A server message that claims to answer an id the gate did not issue — another
//! type (`"2"`, `2.0`), another number, a guess at the next id — or answers one twice, is
//! dropped and audited (`response-dropped`). The method an answer is checked as is the one the
//! gate recorded when it issued the id, never inferred from the answer. No id is ever
//! normalised, so no client's id coercion can be turned against it.
//!
//! **What is checked.** List results (`tools/list`, `prompts/list`, `resources/list`,
//! `resources/templates/list`) lose every unpinned or changed entity; `instructions` that
//! differ from the pin are removed from `initialize` / `server/discover`; `tools/call`,
//! `prompts/get`, `resources/read`, `resources/subscribe|unsubscribe` and `completion/complete`
//! pass only for an entity that passed the latest checked list of its kind. When that kind has
//! not been listed this session (or went stale after a `list_changed`), the gate lists it
//! upstream itself, with its own ids, checks the result, then forwards or refuses the request.
//! A gated method sent as a notification (no id, so no answer to check) is dropped.
//!
//! **Canaries both ways.** With `[canary]`, a client request and a server answer carrying a
//! token are blocked, and so is everything else that crosses: a server → client request
//! (`sampling/createMessage`, `elicitation/create`, …) is answered toward the server with the
//! gate's error and never reaches the client, a server notification is dropped, and a client's
//! answer to a server request is replaced by the gate's error (docs/authz.md).

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::{Value, json};

use super::OnDrift;
use super::filter::{self, Decision, Live, Target};
use crate::authz::limits::Limiter;
use crate::authz::{Act, Guards};
use crate::lock::ServerEntry;
use crate::mcp::framing::{self, Kind, Message};
use crate::surface::EntityKind;

/// JSON-RPC error code of the gate's own answers (implementation-defined server error range).
pub const GATE_ERROR: i64 = -32001;

/// Most pages the gate follows when it lists a kind itself; a longer list refuses the request.
pub const MAX_GATE_PAGES: usize = 256;
/// How often the gate restarts its own listing after a `list_changed` crossed it.
const MAX_RELISTS: u32 = 3;

/// One audit record: an event, its decision, and its fields (never an env var value).
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub event: &'static str,
    pub decision: &'static str,
    pub fields: Value,
}

/// What the shell must do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Write this message to the server.
    ToServer(Value),
    /// Write this message to the client.
    ToClient(Value),
    /// Record this decision.
    Audit(AuditRecord),
    /// End the session (the gate blocked); nothing more is forwarded.
    End(String),
}

/// Where the gate's error goes when a canary trips: the message's id names a request of the
/// client, or of the server (a server → client request, or the client's answer to one).
enum Reply {
    None,
    ToClient(Value),
    ToServer(Value),
}

/// Who is waiting for an answer to a gate-issued id.
#[derive(Debug)]
enum Origin {
    /// A client request: its own id goes back on the answer.
    Client {
        id: Value,
        method: String,
        first_page: bool,
        generation: u64,
    },
    /// One page of the gate's own listing of a kind.
    Gate { kind: EntityKind },
}

/// The gate's own listing of a kind, in progress.
#[derive(Debug)]
struct Listing {
    generation: u64,
    keys: BTreeSet<String>,
    cursors: HashSet<String>,
    pages: usize,
    relists: u32,
    /// `_meta` to send with each page (the 2026-07-28 flow carries the protocol there).
    meta: Option<Value>,
}

/// A client request waiting for the gate's listing of a kind.
#[derive(Debug)]
struct Deferred {
    msg: Message,
    kind: EntityKind,
}

/// The proxy core for one session. Build it with [`super::Cleared::proxy`].
pub struct Proxy {
    entry: ServerEntry,
    on_drift: OnDrift,
    next_id: u64,
    pending: HashMap<u64, Origin>,
    live: Live,
    listings: HashMap<EntityKind, Listing>,
    deferred: Vec<Deferred>,
    ended: bool,
    guards: Guards,
    limiter: Limiter,
    /// Milliseconds since the session started, as the shell last said ([`Proxy::set_clock`]).
    now_ms: u64,
}

/// The methods whose requests name an entity and are checked against the pins.
pub const GATED_METHODS: [&str; 6] = [
    "tools/call",
    "prompts/get",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "completion/complete",
];

fn audit(event: &'static str, decision: &'static str, fields: Value) -> Action {
    Action::Audit(AuditRecord {
        event,
        decision,
        fields,
    })
}

fn gate_error(id: Value, text: &str, reason: &str) -> Action {
    Action::ToClient(framing::error_response(
        id,
        GATE_ERROR,
        text,
        Some(json!({"reason": reason})),
    ))
}

/// What a gated request names, or why it names nothing the gate can check.
fn target_of<'a>(method: &str, params: Option<&'a Value>) -> Option<Result<Target<'a>, String>> {
    let s = |v: Option<&'a Value>, f: &str| v.and_then(|p| p.get(f)).and_then(Value::as_str);
    let missing = |what: &str| Some(Err(format!("{method} names no {what}")));
    match method {
        "tools/call" => Some(
            s(params, "name")
                .map(|n| Target::Entity(EntityKind::Tools, n))
                .ok_or_else(|| format!("{method} names no tool")),
        ),
        "prompts/get" => Some(
            s(params, "name")
                .map(|n| Target::Entity(EntityKind::Prompts, n))
                .ok_or_else(|| format!("{method} names no prompt")),
        ),
        "resources/read" | "resources/subscribe" | "resources/unsubscribe" => Some(
            s(params, "uri")
                .map(Target::Uri)
                .ok_or_else(|| format!("{method} names no resource URI")),
        ),
        "completion/complete" => {
            let r = params.and_then(|p| p.get("ref"));
            match s(r, "type") {
                Some("ref/prompt") => match s(r, "name") {
                    Some(n) => Some(Ok(Target::Entity(EntityKind::Prompts, n))),
                    None => missing("prompt"),
                },
                // The reference is a template (by its uriTemplate) or a resource URI.
                Some("ref/resource") => match s(r, "uri") {
                    Some(u) if u.contains('{') => {
                        Some(Ok(Target::Entity(EntityKind::ResourceTemplates, u)))
                    }
                    Some(u) => Some(Ok(Target::Uri(u))),
                    None => missing("resource"),
                },
                _ => Some(Err(format!(
                    "{method} has no `ref` of type ref/prompt or ref/resource"
                ))),
            }
        }
        _ => None,
    }
}

impl Proxy {
    pub(super) fn new(entry: ServerEntry, on_drift: OnDrift, guards: Guards) -> Proxy {
        Proxy {
            limiter: Limiter::new(guards.limits.clone()),
            guards,
            now_ms: 0,
            entry,
            on_drift,
            next_id: 1,
            pending: HashMap::new(),
            live: Live::default(),
            listings: HashMap::new(),
            deferred: Vec::new(),
            ended: false,
        }
    }

    /// A proxy over `entry` without the pre-launch checks, for the fuzz targets only.
    #[cfg(fuzzing)]
    pub fn for_fuzzing(entry: ServerEntry, on_drift: OnDrift) -> Proxy {
        Proxy::new(entry, on_drift, Guards::default())
    }

    /// Tells the core the time (milliseconds since the session started), for rate limits. The
    /// core has no clock of its own; a shell that never calls this runs at time 0.
    pub fn set_clock(&mut self, now_ms: u64) {
        self.now_ms = self.now_ms.max(now_ms);
    }

    /// Whether the session has ended.
    pub fn ended(&self) -> bool {
        self.ended
    }

    fn issue(&mut self, origin: Origin) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.pending.insert(id, origin);
        id
    }

    fn end(&mut self, why: String, out: &mut Vec<Action>) {
        self.ended = true;
        self.pending.clear();
        self.deferred.clear();
        out.push(Action::End(why));
    }

    /// One message from the client.
    pub fn on_client(&mut self, msg: Message) -> Vec<Action> {
        let mut out = Vec::new();
        if self.ended {
            return out;
        }
        match msg.kind {
            Kind::Request => self.client_request(msg, &mut out),
            Kind::Notification => self.client_notification(msg, &mut out),
            // An answer to a server→client request (sampling, roots, elicitation): the server
            // chose that id, so it passes as it is — unless it carries a canary token (what a
            // sampling model or a user answered goes to the server).
            Kind::Response => {
                if !self.canary_toward_server(&msg, &mut out) {
                    out.push(Action::ToServer(msg.value));
                }
            }
        }
        out
    }

    /// A message bound from one peer to the other outside the client's own requests: a
    /// server → client request or notification, or the client's answer to a server request.
    /// One with a canary token is not delivered: a request is answered toward the server with
    /// the gate's error, a client's answer is replaced by that error, a notification is
    /// dropped; each is `canary-tripped`. Returns whether it tripped.
    fn canary_toward_server(&mut self, msg: &Message, out: &mut Vec<Action>) -> bool {
        let Some(c) = self.guards.canary.clone() else {
            return false;
        };
        let (body, side, kind) = match msg.kind {
            Kind::Request => (msg.params(), "server-request", "token-in-server-request"),
            Kind::Notification => (
                msg.params(),
                "server-notification",
                "token-in-server-notification",
            ),
            Kind::Response => (
                msg.value.get("result").or_else(|| msg.value.get("error")),
                "client-answer",
                "token-in-client-answer",
            ),
        };
        let Some(trip) = body.and_then(|b| c.scan(b)) else {
            return false;
        };
        let method = msg.method().unwrap_or_default().to_owned();
        let fields =
            json!({"kind": kind, "token": format!("#{}", trip.token), "encoding": trip.encoding});
        let what = match msg.kind {
            Kind::Request => format!(
                "a canary token ({}) in the server's {method} request",
                trip.encoding
            ),
            Kind::Notification => format!(
                "a canary token ({}) in the server's {method} notification",
                trip.encoding
            ),
            Kind::Response => format!(
                "a canary token ({}) in the client's answer to a server request",
                trip.encoding
            ),
        };
        let reply = match (msg.kind, msg.id()) {
            (Kind::Request | Kind::Response, Some(id)) => Reply::ToServer(id.clone()),
            _ => Reply::None,
        };
        self.trip(&c, &method, side, what, fields, reply, out);
        true
    }

    fn client_request(&mut self, msg: Message, out: &mut Vec<Action>) {
        if matches!(msg.method(), Some("initialize" | "server/discover")) {
            self.compare_capabilities(&msg, out);
        }
        if self.canary_in_request(&msg, out) {
            return;
        }
        match self.decide(&msg) {
            Decision::Allow => self.admit(msg, out),
            Decision::Refuse(why) => refuse(&msg, &why, out),
            Decision::NeedsList(kind) => {
                self.deferred.push(Deferred { msg, kind });
                self.start_listing(kind, out);
            }
        }
    }

    /// The pin check for one client request (a request that names no entity passes).
    fn decide(&mut self, msg: &Message) -> Decision {
        match target_of(msg.method().unwrap_or_default(), msg.params()) {
            None => Decision::Allow,
            Some(Err(why)) => Decision::Refuse(why),
            Some(Ok(t)) => self.live.decide(&self.entry, t),
        }
    }

    /// A client that declares other capabilities than the pin was captured with may be shown
    /// other tools (servers add tools for roots, sampling, elicitation), which the gate then
    /// removes as unpinned: say so once, with the capabilities to re-pin with.
    fn compare_capabilities(&self, msg: &Message, out: &mut Vec<Action>) {
        let declared = msg.params().and_then(|p| {
            p.get("capabilities")
                .or_else(|| p.pointer("/_meta/io.modelcontextprotocol~1clientCapabilities"))
        });
        let names = |v: Option<&Value>| -> Vec<String> {
            v.and_then(Value::as_object)
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default()
        };
        let client = names(declared);
        let pinned = names(Some(&self.entry.capabilities));
        if client != pinned {
            out.push(audit(
                "capabilities-differ",
                "recheck",
                json!({"clientCapabilities": client, "pinnedCapabilities": pinned}),
            ));
        }
    }

    /// A request that passed the pins: its limits, then `[authz]`, then it is forwarded.
    fn admit(&mut self, msg: Message, out: &mut Vec<Action>) {
        let method = msg.method().unwrap_or_default();
        let params = msg.params();
        let name = |f: &str| params.and_then(|p| p.get(f)).and_then(Value::as_str);
        let (act, entity, arguments) = match method {
            "tools/call" => (
                Act::CallTool,
                name("name"),
                params.and_then(|p| p.get("arguments")),
            ),
            "prompts/get" => (
                Act::GetPrompt,
                name("name"),
                params.and_then(|p| p.get("arguments")),
            ),
            "resources/read" | "resources/subscribe" | "resources/unsubscribe" => {
                (Act::ReadResource, name("uri"), None)
            }
            "completion/complete" => {
                let r = params.and_then(|p| p.get("ref"));
                let f = |k: &str| r.and_then(|r| r.get(k)).and_then(Value::as_str);
                match f("type") {
                    Some("ref/prompt") => (Act::GetPrompt, f("name"), None),
                    _ => (Act::ReadResource, f("uri"), None),
                }
            }
            _ => return self.forward(msg, out),
        };
        let Some(entity) = entity.map(str::to_owned) else {
            return self.forward(msg, out); // the pin check refuses these before here
        };
        let principal = self.guards.principal.clone();
        let bytes = arguments.map_or(0, |a| a.to_string().len());
        if act == Act::CallTool
            && !self.limiter.is_empty()
            && let Err(o) = self.limiter.peek_size(&entity, bytes)
        {
            return self.over_limit(&msg, &entity, &o, out);
        }
        if let Some(a) = self.guards.authz.clone() {
            let v = a.decide(act, &entity, arguments);
            out.push(audit(
                "authz-decision",
                if v.allow { "allow" } else { "block" },
                json!({
                    "method": method, "entity": entity, "principal": principal,
                    "action": act.action_id(), "reason": v.reason, "policies": v.policies,
                    "message": v.message,
                }),
            ));
            if !v.allow {
                let text = format!(
                    "mcpseal denied {method} {entity:?} for principal {:?}: {}",
                    a.principal(),
                    v.message
                );
                out.push(Action::ToClient(framing::error_response(
                    msg.id().cloned().unwrap_or(Value::Null),
                    GATE_ERROR,
                    &text,
                    Some(json!({"reason": v.reason, "policies": v.policies})),
                )));
                return;
            }
        }
        if act == Act::CallTool
            && !self.limiter.is_empty()
            && let Err(o) = self.limiter.admit(&entity, bytes, self.now_ms)
        {
            return self.over_limit(&msg, &entity, &o, out);
        }
        self.forward(msg, out)
    }

    fn over_limit(
        &self,
        msg: &Message,
        tool: &str,
        o: &crate::authz::limits::Over,
        out: &mut Vec<Action>,
    ) {
        out.push(audit(
            "limit-exceeded",
            "block",
            json!({
                "method": "tools/call", "entity": tool, "principal": self.guards.principal,
                "reason": "limit-exceeded", "limit": o.limit, "scope": o.scope,
                "max": o.max, "seen": o.seen,
            }),
        ));
        let text = format!(
            "mcpseal refused tools/call {tool:?}: over the {} {} limit of {} ({})",
            o.scope, o.limit, o.max, o.seen
        );
        out.push(Action::ToClient(framing::error_response(
            msg.id().cloned().unwrap_or(Value::Null),
            GATE_ERROR,
            &text,
            Some(json!({"reason": "limit-exceeded", "limit": o.limit, "scope": o.scope})),
        )));
    }

    /// A client request that carries a canary token, or calls a decoy tool: answered with an
    /// error, never forwarded, `canary-tripped` at critical severity (and the end of the
    /// session under `on-canary = "kill"`). Returns whether it tripped.
    fn canary_in_request(&mut self, msg: &Message, out: &mut Vec<Action>) -> bool {
        let Some(c) = self.guards.canary.clone() else {
            return false;
        };
        let method = msg.method().unwrap_or_default();
        let tool = (method == "tools/call")
            .then(|| {
                msg.params()
                    .and_then(|p| p.get("name"))
                    .and_then(Value::as_str)
            })
            .flatten();
        let (what, fields) = match (
            tool.filter(|t| c.decoy(t).is_some()),
            msg.params().and_then(|p| c.scan(p)),
        ) {
            (Some(t), _) => (
                format!("a call to the decoy tool {t:?}"),
                json!({"kind": "decoy-tool", "entity": t}),
            ),
            (None, Some(trip)) => (
                format!("a canary token ({}) in the request", trip.encoding),
                json!({"kind": "token-in-request", "token": format!("#{}", trip.token), "encoding": trip.encoding, "entity": tool}),
            ),
            (None, None) => return false,
        };
        let reply = msg.id().cloned().map_or(Reply::None, Reply::ToClient);
        self.trip(&c, method, "request", what, fields, reply, out);
        true
    }

    #[allow(clippy::too_many_arguments)]
    fn trip(
        &mut self,
        c: &crate::authz::canary::Canary,
        method: &str,
        side: &str,
        what: String,
        mut fields: Value,
        reply: Reply,
        out: &mut Vec<Action>,
    ) {
        // A client's answer names no method (the server's request it answers is not tracked).
        fields["method"] = if method.is_empty() {
            Value::Null
        } else {
            json!(method)
        };
        fields["principal"] = json!(self.guards.principal);
        fields["severity"] = json!("critical");
        fields["reason"] = json!("canary-tripped");
        fields["side"] = json!(side);
        out.push(audit("canary-tripped", "block", fields));
        let text = format!("mcpseal blocked this {side}: {what}");
        match reply {
            Reply::None => {}
            Reply::ToClient(id) => out.push(gate_error(id, &text, "canary-tripped")),
            Reply::ToServer(id) => out.push(Action::ToServer(framing::error_response(
                id,
                GATE_ERROR,
                &text,
                Some(json!({"reason": "canary-tripped"})),
            ))),
        }
        if c.kill() {
            self.end(
                format!("canary tripped: {what} (on-canary = \"kill\")"),
                out,
            );
        }
    }

    /// Forwards a client request under a gate-issued id.
    fn forward(&mut self, msg: Message, out: &mut Vec<Action>) {
        let method = msg.method().unwrap_or_default().to_owned();
        let first_page = msg.params().and_then(|p| p.get("cursor")).is_none();
        let generation = EntityKind::from_list_method(&method)
            .map(|k| self.live.generation(k))
            .unwrap_or(0);
        let mut v = msg.value;
        let id = v.get("id").cloned().unwrap_or(Value::Null);
        let gid = self.issue(Origin::Client {
            id,
            method,
            first_page,
            generation,
        });
        v["id"] = json!(gid);
        out.push(Action::ToServer(v));
    }

    fn client_notification(&mut self, msg: Message, out: &mut Vec<Action>) {
        let method = msg.method().unwrap_or_default();
        if !method.starts_with("notifications/") {
            // A request in notification form has no answer to check. For a gated method it
            // would reach the entity unchecked; for any other it has no MCP meaning.
            out.push(audit(
                "request-dropped",
                "block",
                json!({"method": method, "reason": "notification-form"}),
            ));
            return;
        }
        if method == "notifications/cancelled" {
            let target = msg.params().and_then(|p| p.get("requestId")).cloned();
            let Some(target) = target else { return };
            // A deferred request is simply forgotten; a forwarded one is cancelled under the
            // id the server knows it by.
            let before = self.deferred.len();
            self.deferred.retain(|d| d.msg.id() != Some(&target));
            if self.deferred.len() != before {
                return;
            }
            let gid = self.pending.iter().find_map(|(g, o)| match o {
                Origin::Client { id, .. } if *id == target => Some(*g),
                _ => None,
            });
            if let Some(gid) = gid {
                let mut v = msg.value;
                v["params"]["requestId"] = json!(gid);
                out.push(Action::ToServer(v));
            }
            return;
        }
        out.push(Action::ToServer(msg.value));
    }

    /// Starts the gate's own listing of `kind`, unless one is running.
    fn start_listing(&mut self, kind: EntityKind, out: &mut Vec<Action>) {
        if self.listings.contains_key(&kind) {
            return;
        }
        let meta = self
            .deferred
            .iter()
            .rev()
            .find(|d| d.kind == kind)
            .and_then(|d| d.msg.params())
            .and_then(|p| p.get("_meta"))
            .and_then(Value::as_object)
            .map(|m| {
                let mut m = m.clone();
                m.remove("progressToken");
                Value::Object(m)
            });
        let listing = Listing {
            generation: self.live.generation(kind),
            keys: BTreeSet::new(),
            cursors: HashSet::new(),
            pages: 0,
            relists: 0,
            meta,
        };
        self.listings.insert(kind, listing);
        out.push(audit(
            "gate-list",
            "recheck",
            json!({"kind": kind, "reason": "request-before-list"}),
        ));
        self.request_page(kind, None, out);
    }

    fn request_page(&mut self, kind: EntityKind, cursor: Option<String>, out: &mut Vec<Action>) {
        let mut params = serde_json::Map::new();
        if let Some(l) = self.listings.get_mut(&kind) {
            l.pages += 1;
            if let Some(m) = &l.meta {
                params.insert("_meta".into(), m.clone());
            }
        }
        if let Some(c) = cursor {
            params.insert("cursor".into(), json!(c));
        }
        let gid = self.issue(Origin::Gate { kind });
        out.push(Action::ToServer(framing::request(
            gid,
            kind.list_method(),
            Value::Object(params),
        )));
    }

    /// One message from the server.
    pub fn on_server(&mut self, msg: Message) -> Vec<Action> {
        let mut out = Vec::new();
        if self.ended {
            return out;
        }
        match msg.kind {
            Kind::Response => self.server_response(msg, &mut out),
            Kind::Notification => {
                let kind = match msg.method() {
                    Some("notifications/tools/list_changed") => Some(EntityKind::Tools),
                    Some("notifications/prompts/list_changed") => Some(EntityKind::Prompts),
                    Some("notifications/resources/list_changed") => Some(EntityKind::Resources),
                    _ => None,
                };
                if let Some(k) = kind {
                    self.live.stale(k);
                    if k == EntityKind::Resources {
                        self.live.stale(EntityKind::ResourceTemplates);
                    }
                    out.push(audit("list-changed", "recheck", json!({"kind": k})));
                }
                if !self.canary_toward_server(&msg, &mut out) {
                    out.push(Action::ToClient(msg.value));
                }
            }
            // Server → client requests (sampling, roots, elicitation, ping) pass: the client
            // answers them, and the server chose their ids. One that carries a canary token is
            // answered toward the server by the gate and never reaches the client.
            Kind::Request => {
                if !self.canary_toward_server(&msg, &mut out) {
                    out.push(Action::ToClient(msg.value));
                }
            }
        }
        out
    }

    /// A server message that is JSON but not a valid JSON-RPC message (say, both `result` and
    /// `error`): dropped, never forwarded.
    pub fn on_server_malformed(&mut self, why: &str) -> Vec<Action> {
        if self.ended {
            return Vec::new();
        }
        vec![audit(
            "response-dropped",
            "block",
            json!({"reason": "malformed-response", "message": why}),
        )]
    }

    fn server_response(&mut self, msg: Message, out: &mut Vec<Action>) {
        let raw_id = msg.id().cloned().unwrap_or(Value::Null);
        // Only the exact integers the gate issued: `"2"`, `2.0`, `-2` are other ids.
        let gid = match &raw_id {
            Value::Number(n) => n.as_u64(),
            _ => None,
        };
        let origin = gid.and_then(|g| self.pending.remove(&g));
        let Some(origin) = origin else {
            let reason = match gid {
                Some(g) if g >= 1 && g < self.next_id => "already-answered",
                _ => "id-not-issued",
            };
            out.push(audit(
                "response-dropped",
                "block",
                json!({"reason": reason, "id": bounded(&raw_id)}),
            ));
            return;
        };
        match origin {
            Origin::Client {
                id,
                method,
                first_page,
                generation,
            } => self.answer_client(msg, id, &method, first_page, generation, out),
            Origin::Gate { kind } => self.gate_page(msg, kind, out),
        }
    }

    fn answer_client(
        &mut self,
        msg: Message,
        id: Value,
        method: &str,
        first_page: bool,
        generation: u64,
        out: &mut Vec<Action>,
    ) {
        let mut v = msg.value;
        v["id"] = id.clone();
        if let Some(c) = self.guards.canary.clone()
            && let Some(trip) = v
                .get("result")
                .or_else(|| v.get("error"))
                .and_then(|r| c.scan(r))
        {
            let fields = json!({"kind": "token-in-result", "token": format!("#{}", trip.token), "encoding": trip.encoding});
            let what = format!("a canary token ({}) in the server's answer", trip.encoding);
            self.trip(&c, method, "answer", what, fields, Reply::ToClient(id), out);
            return;
        }
        if v.get("result").is_none() {
            out.push(Action::ToClient(v)); // an error answer carries nothing to check
            return;
        }
        if let Some(kind) = EntityKind::from_list_method(method) {
            let Some(items) = list_items(&v, kind) else {
                let why = malformed_list(kind, out);
                out.push(gate_error(id, &format!("mcpseal: {why}"), "malformed-list"));
                return self.end(why, out);
            };
            let check = match self.check_page(kind, items, "client", out) {
                Ok(c) => c,
                Err(why) => {
                    out.push(gate_error(id, &format!("mcpseal: {why}"), "drift"));
                    return self.end(why, out);
                }
            };
            let last_page = v.pointer("/result/nextCursor").is_none_or(Value::is_null);
            self.live
                .record_page(kind, generation, first_page, &check.kept_keys, last_page);
            let mut kept = check.kept;
            let mut changed = !check.removed.is_empty();
            changed |= self.hide_and_decoy(kind, &mut kept, first_page, out);
            if changed && let Some(arr) = v.pointer_mut(&format!("/result/{}", kind.as_str())) {
                *arr = Value::Array(kept);
            }
        } else if method == "initialize" || method == "server/discover" {
            let live = v.pointer("/result/instructions").cloned();
            let pinned = self.entry.instructions.as_ref().map(|i| i.text.as_str());
            if let Some(live) = live
                && live.as_str() != pinned
            {
                if let Some(r) = v.get_mut("result").and_then(Value::as_object_mut) {
                    r.remove("instructions");
                }
                out.push(audit(
                    "instructions-removed",
                    "block",
                    json!({
                        "reason": "changed-instructions",
                        "digestPinned": self.entry.instructions.as_ref().map(|i| i.digest),
                        "digestLive": live.as_str().map(crate::surface::instructions_digest),
                    }),
                ));
            }
        }
        out.push(Action::ToClient(v));
    }

    /// Removes from a list page what `[authz]` does not let this principal see: the tools it
    /// can never call, and — when a policy names the kind's list action (`list_tools`,
    /// `list_prompts`, `list_resources`) — every entity that action does not permit. Adds the
    /// decoy tools to the first `tools/list` page (no list rule hides a decoy). Returns whether
    /// the page changed.
    fn hide_and_decoy(
        &self,
        kind: EntityKind,
        kept: &mut Vec<Value>,
        first_page: bool,
        out: &mut Vec<Action>,
    ) -> bool {
        let mut changed = false;
        if let Some(a) = &self.guards.authz {
            let before = kept.len();
            let key = match kind {
                EntityKind::Tools | EntityKind::Prompts => "name",
                EntityKind::Resources => "uri",
                EntityKind::ResourceTemplates => "uriTemplate",
            };
            kept.retain(|t| {
                let name = t.get(key).and_then(Value::as_str).unwrap_or_default();
                let hidden = if kind == EntityKind::Tools && !a.may_ever(Act::CallTool, name) {
                    Some(("authz-never-permitted", Vec::new()))
                } else {
                    match a.may_list(Act::list_of(kind), name) {
                        Some(v) if !v.allow => Some((v.reason, v.policies)),
                        _ => None,
                    }
                };
                if let Some((reason, policies)) = &hidden {
                    let mut fields = json!({"kind": kind, "entity": name, "principal": a.principal(), "reason": reason});
                    if *reason != "authz-never-permitted" {
                        fields["action"] = json!(Act::list_of(kind).action_id());
                        fields["policies"] = json!(policies);
                    }
                    out.push(audit("entity-hidden", "block", fields));
                }
                hidden.is_none()
            });
            changed |= kept.len() != before;
        }
        if kind == EntityKind::Tools
            && first_page
            && let Some(c) = &self.guards.canary
        {
            for d in c.decoys() {
                kept.push(d.clone());
                changed = true;
            }
        }
        changed
    }

    /// One page of the gate's own listing.
    fn gate_page(&mut self, msg: Message, kind: EntityKind, out: &mut Vec<Action>) {
        if !self.listings.contains_key(&kind) {
            return; // the listing was abandoned
        }
        let fail = |p: &mut Proxy, why: String, out: &mut Vec<Action>| {
            p.listings.remove(&kind);
            p.refuse_deferred(kind, &why, out);
        };
        if let Some(e) = msg.error() {
            let m = e
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("no message");
            fail(self, format!("the server refused to list {kind}: {m}"), out);
            return;
        }
        let checked = match list_items(&msg.value, kind) {
            None => {
                let why = malformed_list(kind, out);
                return fail(self, why, out);
            }
            Some(items) => self.check_page(kind, items, "gate", out),
        };
        let check = match checked {
            Ok(c) => c,
            Err(why) => {
                self.refuse_deferred(kind, &why, out);
                self.end(why, out);
                return;
            }
        };
        let next = msg
            .value
            .pointer("/result/nextCursor")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let generation = self.live.generation(kind);
        let Some(l) = self.listings.get_mut(&kind) else {
            return;
        };
        l.keys.extend(check.kept_keys);
        enum Step {
            Next(String),
            Endless,
            Relist,
            Unsettled,
            Done,
        }
        let step = match next {
            Some(c) if l.pages >= MAX_GATE_PAGES || !l.cursors.insert(c.clone()) => Step::Endless,
            Some(c) => Step::Next(c),
            // Every page seen. A list_changed that crossed the listing makes it stale.
            None if l.generation != generation && l.relists >= MAX_RELISTS => Step::Unsettled,
            None if l.generation != generation => {
                l.relists += 1;
                l.generation = generation;
                l.keys.clear();
                l.cursors.clear();
                l.pages = 0;
                Step::Relist
            }
            None => Step::Done,
        };
        match step {
            Step::Next(c) => return self.request_page(kind, Some(c), out),
            Step::Relist => return self.request_page(kind, None, out),
            Step::Endless => {
                let why = format!(
                    "the server's {} did not end (a repeated cursor, or more than {MAX_GATE_PAGES} pages)",
                    kind.list_method()
                );
                return fail(self, why, out);
            }
            Step::Unsettled => {
                let why = format!("the server's {kind} kept changing while the gate listed them");
                return fail(self, why, out);
            }
            Step::Done => {}
        }
        let Some(l) = self.listings.remove(&kind) else {
            return;
        };
        let keys = l.keys;
        self.live.record_all(kind, generation, keys);
        // Decide again every request that waited for this kind (a resource may now wait for
        // the templates).
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.deferred)
            .into_iter()
            .partition(|d| d.kind == kind);
        self.deferred = waiting;
        for d in ready {
            self.client_request_after_listing(d.msg, kind, out);
        }
    }

    /// Decides a deferred request once its kind is listed; it never waits twice for one kind.
    fn client_request_after_listing(
        &mut self,
        msg: Message,
        listed: EntityKind,
        out: &mut Vec<Action>,
    ) {
        match self.decide(&msg) {
            Decision::Allow => self.admit(msg, out),
            Decision::Refuse(why) => refuse(&msg, &why, out),
            Decision::NeedsList(k) if k == listed => {
                refuse(
                    &msg,
                    &format!("the gate's listing of {k} did not complete"),
                    out,
                );
            }
            Decision::NeedsList(k) => {
                self.deferred.push(Deferred { msg, kind: k });
                self.start_listing(k, out);
            }
        }
    }

    /// Checks one list page against the pins and audits each removal. Under `--on-drift kill`
    /// a removal ends the session: `Err(why)`.
    fn check_page(
        &self,
        kind: EntityKind,
        items: &[Value],
        by: &str,
        out: &mut Vec<Action>,
    ) -> Result<filter::ListCheck, String> {
        let check = filter::check_list(&self.entry, kind, items);
        audit_removed(kind, &check.removed, by, out);
        if !check.removed.is_empty() && self.on_drift == OnDrift::Kill {
            return Err(format!(
                "the server's {} does not match its pins ({} entities changed or unpinned); session ended (--on-drift kill)",
                kind.list_method(),
                check.removed.len()
            ));
        }
        Ok(check)
    }

    fn refuse_deferred(&mut self, kind: EntityKind, why: &str, out: &mut Vec<Action>) {
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.deferred)
            .into_iter()
            .partition(|d| d.kind == kind);
        self.deferred = waiting;
        for d in ready {
            refuse(&d.msg, why, out);
        }
    }
}

/// A list result's entity array.
fn list_items(v: &Value, kind: EntityKind) -> Option<&Vec<Value>> {
    v.get("result")?.get(kind.as_str())?.as_array()
}

/// Audits a list result without its array; returns why, for the refusal or the end.
fn malformed_list(kind: EntityKind, out: &mut Vec<Action>) -> String {
    out.push(audit(
        "server-message-rejected",
        "block",
        json!({"reason": "malformed-list", "method": kind.list_method()}),
    ));
    format!(
        "the server's {} result has no `{}` array",
        kind.list_method(),
        kind.as_str()
    )
}

/// A server-chosen value for the audit log, cut to a bounded length (an id can be any string).
fn bounded(v: &Value) -> Value {
    const MAX: usize = 128;
    match v {
        Value::String(s) if s.len() > MAX => {
            let mut end = MAX;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            json!(format!("{}…", &s[..end]))
        }
        other => other.clone(),
    }
}

/// Answers a client request with the gate's error, and audits it.
fn refuse(msg: &Message, why: &str, out: &mut Vec<Action>) {
    let method = msg.method().unwrap_or_default();
    let entity = msg
        .params()
        .and_then(|p| {
            p.get("name")
                .or_else(|| p.get("uri"))
                .or_else(|| p.get("ref"))
        })
        .cloned();
    out.push(audit(
        "call-refused",
        "block",
        json!({"method": method, "entity": entity, "reason": why}),
    ));
    out.push(gate_error(
        msg.id().cloned().unwrap_or(Value::Null),
        &format!("mcpseal blocked this request: {why}"),
        "not-approved",
    ));
}

fn audit_removed(kind: EntityKind, removed: &[filter::Removed], by: &str, out: &mut Vec<Action>) {
    for r in removed {
        out.push(audit(
            "entity-removed",
            "block",
            json!({"kind": kind, "entity": r.key, "reason": r.reason, "digestPinned": r.pinned, "digestLive": r.live, "listedBy": by}),
        ));
    }
}

#[cfg(test)]
mod tests;

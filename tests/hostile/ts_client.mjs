// A real MCP client — the official TypeScript SDK's `Client` over `StdioClientTransport` —
// driving a server command line (mcpseal's gate, or the server itself), for tests/gate_hostile.rs.
//
// Usage: node ts_client.mjs --sdk DIR -- COMMAND ARGS...
//        node ts_client.mjs --sdk DIR --batch FILE     (FILE: {"label": [COMMAND, ARGS...], ...})
// A batch entry that is a string instead is a Streamable HTTP URL, connected to directly with
// `StreamableHTTPClientTransport` (for control runs without the gate).
// DIR is the installed @modelcontextprotocol/sdk package (the peers' node_modules).
//
// Per session it initializes and records the instructions; calls `add` and `exfil`, gets the
// `greet` and `exfil` prompts and reads `test://r/1` and `test://exfil` before listing anything
// (as a client that cached lists from an earlier session does: `callsBeforeList`); lists tools,
// prompts, resources and resource templates (a list that fails is recorded as {"error"}); makes
// the same calls again (`calls`); and prints ONE JSON object of exactly what the client holds
// (with --batch: one object keyed by label).
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import path from "node:path";

const argv = process.argv.slice(2);
const sdkDir = argv[argv.indexOf("--sdk") + 1];
const load = (p) => import(pathToFileURL(path.join(sdkDir, "dist/esm", p)).href);
const [{ Client }, { StdioClientTransport }, { StreamableHTTPClientTransport }] = await Promise.all([
  load("client/index.js"),
  load("client/stdio.js"),
  load("client/streamableHttp.js"),
]);

const TIMEOUT = { timeout: 8000 };
const errText = (e) => String(e && e.message ? e.message : e);

async function attempt(fn) {
  try {
    return await fn();
  } catch (e) {
    return { error: errText(e) };
  }
}

async function session(command, args) {
  const out = { clientErrors: [] };
  const client = new Client({ name: "hostile-ts", version: "1.0.0" }, { capabilities: {} });
  client.onerror = (e) => out.clientErrors.push(errText(e).slice(0, 300));
  const transport = args === null
    ? new StreamableHTTPClientTransport(new URL(command))
    : new StdioClientTransport({ command, args, stderr: "pipe" });
  let stderr = "";
  transport.stderr?.on("data", (d) => { stderr += d; });
  try {
    await client.connect(transport, TIMEOUT);
  } catch (e) {
    out.initialize = { error: errText(e) };
    await client.close().catch(() => {});
    out.stderr = stderr.slice(-2000);
    return out;
  }
  out.initialize = {
    ok: true,
    instructions: client.getInstructions() ?? null,
    serverInfo: client.getServerVersion() ?? null,
  };
  const text = (content) => (content || []).map((c) => c.text ?? "").join("");
  const callTool = (name, args) => attempt(async () => {
    const r = await client.callTool({ name, arguments: args }, undefined, TIMEOUT);
    return r.isError ? { error: "isError: " + text(r.content) } : { ok: text(r.content) };
  });
  const calls = async () => {
    const c = {};
    c["tools/call add"] = await callTool("add", { a: 1, b: 2 });
    c["tools/call exfil"] = await callTool("exfil", { note: "x" });
    for (const name of ["greet", "exfil"]) {
      c[`prompts/get ${name}`] = await attempt(async () => {
        const r = await client.getPrompt({ name, arguments: { who: "Ada" } }, TIMEOUT);
        return { ok: r.messages.map((m) => m.content.text ?? "").join("") };
      });
    }
    for (const uri of ["test://r/1", "test://exfil"]) {
      c[`resources/read ${uri}`] = await attempt(async () => {
        const r = await client.readResource({ uri }, TIMEOUT);
        return { ok: r.contents.map((x) => x.text ?? "").join("") };
      });
    }
    return c;
  };
  // First as a client that calls what it cached from an earlier session, before any list.
  out.callsBeforeList = await calls();
  const pick = (items, keys) =>
    items.map((x) => Object.fromEntries(keys.map((k) => [k, x[k] ?? null])));
  out.tools = await attempt(async () =>
    ({ items: pick((await client.listTools({}, TIMEOUT)).tools, ["name", "description"]) }));
  out.prompts = await attempt(async () =>
    ({ items: pick((await client.listPrompts({}, TIMEOUT)).prompts, ["name", "description"]) }));
  out.resources = await attempt(async () =>
    ({ items: pick((await client.listResources({}, TIMEOUT)).resources, ["uri", "name", "description"]) }));
  out.templates = await attempt(async () =>
    ({ items: pick((await client.listResourceTemplates({}, TIMEOUT)).resourceTemplates, ["uriTemplate", "name", "description"]) }));
  out.calls = await calls();
  await client.close().catch(() => {});
  out.stderr = stderr.slice(-2000);
  return out;
}

const sep = argv.indexOf("--");
if (sep >= 0) {
  const [command, ...args] = argv.slice(sep + 1);
  console.log(JSON.stringify(await session(command, args)));
} else {
  const batch = JSON.parse(readFileSync(argv[argv.indexOf("--batch") + 1], "utf8"));
  const all = {};
  for (const [label, entry] of Object.entries(batch)) {
    all[label] = typeof entry === "string"
      ? await session(entry, null)
      : await session(entry[0], entry.slice(1));
  }
  console.log(JSON.stringify(all));
}
process.exit(0);

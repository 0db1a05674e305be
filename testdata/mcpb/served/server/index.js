// A dependency-free MCP server over stdio (newline-delimited JSON-RPC), for mcpseal's MCPB
// and channel tests. It announces the tools in tools.json beside it, answers tools/call by
// echoing, and creates `started` in its parent folder when it starts, so a test can tell
// that a refused launch never ran it.
const fs = require("fs");
const path = require("path");
const readline = require("readline");
fs.writeFileSync(path.join(__dirname, "..", "started"), String(process.pid));
const tools = JSON.parse(fs.readFileSync(path.join(__dirname, "tools.json"), "utf8"));
const send = (m) => process.stdout.write(JSON.stringify(m) + "\n");
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  let m;
  try { m = JSON.parse(line); } catch { return; }
  if (m.id === undefined) return;
  const ok = (result) => send({ jsonrpc: "2.0", id: m.id, result });
  switch (m.method) {
    case "initialize":
      return ok({
        protocolVersion: (m.params && m.params.protocolVersion) || "2025-06-18",
        capabilities: { tools: {} },
        serverInfo: { name: "served-mcpb", version: "1.0.0" },
      });
    case "tools/list": return ok({ tools });
    case "tools/call": return ok({ content: [{ type: "text", text: JSON.stringify(m.params.arguments || {}) }] });
    case "ping": return ok({});
    default: return send({ jsonrpc: "2.0", id: m.id, error: { code: -32601, message: "method not found" } });
  }
});

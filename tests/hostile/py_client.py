"""A real MCP client — the official Python SDK's `ClientSession` over `stdio_client` — driving
a server command line (mcpseal's gate, or the server itself), for tests/gate_hostile.rs.

Usage: python py_client.py -- COMMAND ARGS...
       python py_client.py --batch FILE      (FILE: {"label": [COMMAND, ARGS...], ...})

A batch entry that is a string instead is a Streamable HTTP URL, connected to directly with
`streamable_http_client` (for control runs without the gate).

Per session it initializes and records the instructions; calls `add` and `exfil`, gets the
`greet` and `exfil` prompts and reads `test://r/1` and `test://exfil` before listing anything
(as a client that cached lists from an earlier session does: `callsBeforeList`); lists tools,
prompts, resources and resource templates (a list that fails is recorded as {"error"}); makes
the same calls again (`calls`); and prints ONE JSON object of exactly what the client holds
(with --batch: one object keyed by label).
"""
import asyncio
import json
import sys
import tempfile

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

TIMEOUT = 8.0


def err_text(e):
    if isinstance(e, BaseExceptionGroup):
        return "; ".join(err_text(x) for x in e.exceptions)
    return f"{type(e).__name__}: {e}"


async def attempt(fn):
    try:
        return await fn()
    except Exception as e:  # a JSON-RPC error surfaces as an MCPError
        return {"error": err_text(e)}


def pick(items, keys):
    return [{k: getattr(x, k, None) for k in keys} for x in items]


async def drive(session, out):
    try:
        init = await session.initialize()
    except Exception as e:
        out["initialize"] = {"error": err_text(e)}
        return
    out["initialize"] = {
        "ok": True,
        "instructions": init.instructions,
        "serverInfo": init.server_info.model_dump(mode="json", exclude_none=True),
    }

    def text(content):
        return "".join(getattr(c, "text", "") for c in content)

    async def call(name, args):
        r = await session.call_tool(name, args)
        return {"error": "isError: " + text(r.content)} if r.is_error else {"ok": text(r.content)}

    async def prompt(name):
        r = await session.get_prompt(name, {"who": "Ada"})
        return {"ok": "".join(getattr(m.content, "text", "") for m in r.messages)}

    async def read(uri):
        r = await session.read_resource(uri)
        return {"ok": "".join(getattr(c, "text", "") for c in r.contents)}

    async def calls():
        return {
            "tools/call add": await attempt(lambda: call("add", {"a": 1, "b": 2})),
            "tools/call exfil": await attempt(lambda: call("exfil", {"note": "x"})),
            "prompts/get greet": await attempt(lambda: prompt("greet")),
            "prompts/get exfil": await attempt(lambda: prompt("exfil")),
            "resources/read test://r/1": await attempt(lambda: read("test://r/1")),
            "resources/read test://exfil": await attempt(lambda: read("test://exfil")),
        }

    # First as a client that calls what it cached from an earlier session, before any list.
    out["callsBeforeList"] = await calls()

    async def tools():
        return {"items": pick((await session.list_tools()).tools, ["name", "description"])}

    async def prompts():
        return {"items": pick((await session.list_prompts()).prompts, ["name", "description"])}

    async def resources():
        r = await session.list_resources()
        items = pick(r.resources, ["uri", "name", "description"])
        return {"items": [dict(x, uri=str(x["uri"])) for x in items]}

    async def templates():
        r = await session.list_resource_templates()
        return {"items": pick(r.resource_templates, ["uri_template", "name", "description"])}

    out["tools"] = await attempt(tools)
    out["prompts"] = await attempt(prompts)
    out["resources"] = await attempt(resources)
    out["templates"] = await attempt(templates)
    for item in out["templates"].get("items", []):
        item["uriTemplate"] = item.pop("uri_template")

    out["calls"] = await calls()


async def session(command, args):
    """One session with a stdio server (`args` a list) or a Streamable HTTP URL (`args` None)."""
    out = {}
    with tempfile.TemporaryFile(mode="w+") as errlog:
        if args is None:
            transport = streamable_http_client(command)
        else:
            params = StdioServerParameters(command=command, args=args)
            transport = stdio_client(params, errlog=errlog)
        try:
            async with transport as (read, write):
                async with ClientSession(read, write, read_timeout_seconds=TIMEOUT) as s:
                    await drive(s, out)
        except Exception as e:  # the connection broke (e.g. the gate ended the session)
            out["sessionError"] = err_text(e)
        errlog.seek(0)
        out["stderr"] = errlog.read()[-2000:]
    return out


async def main(argv):
    if "--" in argv:
        cmd = argv[argv.index("--") + 1:]
        print(json.dumps(await session(cmd[0], cmd[1:])))
    else:
        with open(argv[argv.index("--batch") + 1]) as f:
            batch = json.load(f)
        out = {}
        for label, c in batch.items():
            out[label] = await (session(c, None) if isinstance(c, str) else session(c[0], c[1:]))
        print(json.dumps(out))


asyncio.run(main(sys.argv[1:]))

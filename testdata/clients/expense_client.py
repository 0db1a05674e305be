"""A real MCP client (the official Python SDK's ClientSession over stdio_client) that makes a
list of calls in one session, for mcpseal's authorization tests (tests/authz.rs).

Usage: python expense_client.py STEPS_JSON -- COMMAND ARGS...
STEPS_JSON is a list of steps: {"list": true} lists the tools; {"call": TOOL, "arguments": {...},
"label": L} calls a tool; {"sleep": SECONDS} waits (for a list_changed to arrive).
Prints ONE JSON object: {"lists": [[names]...], "calls": {label: {"result"|"error"}},
"asked": [texts]}. The client answers sampling (with "sampled") and elicitation (accept,
{"ok": true}); "asked" is every text a server request brought it, in order.
"""
import asyncio
import json
import sys

import anyio
from mcp import ClientSession, StdioServerParameters, types
from mcp.client.stdio import stdio_client


def err_text(e):
    if isinstance(e, BaseExceptionGroup):
        return "; ".join(err_text(x) for x in e.exceptions)
    return f"{type(e).__name__}: {e}"


async def main(argv):
    sep = argv.index("--")
    steps = json.loads(argv[0])
    server = argv[sep + 1:]
    out = {"lists": [], "calls": {}, "asked": []}

    async def sampling(context, params):
        out["asked"].append("".join(getattr(m.content, "text", "") for m in params.messages))
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(type="text", text="sampled"), model="none"
        )

    async def elicitation(context, params):
        out["asked"].append(params.message)
        return types.ElicitResult(action="accept", content={"ok": True})

    params = StdioServerParameters(command=server[0], args=server[1:])
    async with stdio_client(params) as (read, write):
        async with ClientSession(
            read, write, sampling_callback=sampling, elicitation_callback=elicitation
        ) as session:
            await session.initialize()
            for s in steps:
                if "list" in s:
                    tools = await session.list_tools()
                    out["lists"].append(sorted(t.name for t in tools.tools))
                elif "sleep" in s:
                    await asyncio.sleep(s["sleep"])
                elif "call" in s:
                    try:
                        with anyio.fail_after(10):
                            r = await session.call_tool(s["call"], s.get("arguments"))
                        text = "".join(getattr(c, "text", "") for c in r.content)
                        out["calls"][s["label"]] = {"result": text, "isError": bool(r.is_error)}
                    except Exception as e:
                        out["calls"][s["label"]] = {"error": err_text(e)}
    print(json.dumps(out))


asyncio.run(main(sys.argv[1:]))

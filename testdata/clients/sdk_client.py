"""A real MCP client (the official Python SDK) driving a server, for mcpseal's gate tests.

Usage: python sdk_client.py [--roots-sampling] [--call TOOL JSON_ARGS] -- COMMAND ARGS...
Prints one JSON object: {"tools": [names], "call": result-or-error, "listChanged": n}.
With --roots-sampling the client declares roots and sampling (servers such as
server-everything then announce more tools).
"""
import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters, types
from mcp.client.stdio import stdio_client


async def main(argv):
    sep = argv.index("--")
    opts, server = argv[:sep], argv[sep + 1:]
    roots_sampling = "--roots-sampling" in opts
    call = None
    if "--call" in opts:
        i = opts.index("--call")
        call = (opts[i + 1], json.loads(opts[i + 2]))
    list_changed = 0

    async def on_message(message):
        nonlocal list_changed
        root = getattr(message, "root", message)
        if isinstance(root, types.ToolListChangedNotification):
            list_changed += 1

    kwargs = {"message_handler": on_message}
    if roots_sampling:
        async def sampling(context, params):
            return types.CreateMessageResult(role="assistant", content=types.TextContent(type="text", text="ok"), model="test")

        async def roots(context):
            return types.ListRootsResult(roots=[])

        kwargs["sampling_callback"] = sampling
        kwargs["list_roots_callback"] = roots

    params = StdioServerParameters(command=server[0], args=server[1:])
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write, **kwargs) as session:
            await session.initialize()
            await asyncio.sleep(0.5)  # let an initial list_changed arrive
            tools = await session.list_tools()
            out = {"tools": sorted(t.name for t in tools.tools)}
            if call:
                try:
                    r = await session.call_tool(call[0], call[1])
                    out["call"] = {"result": r.model_dump(mode="json", exclude_none=True)}
                except Exception as e:  # the gate's JSON-RPC error surfaces as an McpError
                    out["call"] = {"error": str(e)}
            out["listChanged"] = list_changed
            print(json.dumps(out))


asyncio.run(main(sys.argv[1:]))

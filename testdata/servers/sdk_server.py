"""A small MCP server of ours on the official Python SDK (mcp 2.x), for capture-stability tests.

Its tools have nested schemas with descriptions, a prompt and a resource, so the canonical
digests cover what SDKs reorder between versions.
"""
from typing import Annotated

from pydantic import Field

try:  # mcp 2.x
    from mcp.server.mcpserver import MCPServer as Server
except ImportError:  # mcp 1.x
    from mcp.server.fastmcp import FastMCP as Server

mcp = Server("mcpseal-sdk-fixture", instructions="A fixture for mcpseal's tests.")


@mcp.tool()
def add(a: Annotated[int, Field(description="The first number.")], b: Annotated[int, Field(description="The second number.")]) -> int:
    """Add two numbers."""
    return a + b


@mcp.tool()
def search(query: Annotated[str, Field(description="What to look for.")], limit: int = 10, tags: list[str] | None = None) -> str:
    """Search the fixture's notes."""
    return f"{query} {limit} {tags}"


@mcp.prompt()
def review(code: str) -> str:
    """Review a piece of code."""
    return f"Please review:\n{code}"


@mcp.resource("fixture://notes")
def notes() -> str:
    """The fixture's notes."""
    return "notes"


if __name__ == "__main__":
    mcp.run()

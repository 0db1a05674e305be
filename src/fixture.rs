//! A scriptable MCP server over stdio, for tests, benchmarks and the demo.

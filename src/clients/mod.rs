//! MCP client configs: discovery, parsing, wrap / unwrap. Owned by issues 3 and 4.

//! What the mcp-manager test binaries share.

pub(crate) mod procs;

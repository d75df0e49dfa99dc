//! The facade: a `Manager` that connects to many MCP servers and owns every resource behind an RAII guard.
//!
//! **Status: skeleton.** Nothing here works yet; the manager issue fills it in, along with the `mcpm`
//! CLI. This page states the contract that work must meet (DESIGN.md §3, "mcp-manager", and §4).
//!
//! # What it will hold
//! - `Manager`: `connect` (a complete attempt, spawn or open, handshake and discovery, under one
//!   timeout, wrapped in `mcp-retry`), `connect_all` (parallel, bounded), `recover`, `isolated`
//!   sessions, discovery of every page of tools, resources, templates and prompts, calls with timeouts
//!   and rich results, an aggregated catalog under qualified names, health, events, `disconnect` and
//!   `shutdown(grace)`.
//! - configuration: TOML natively plus the common JSON forms; unknown keys are errors that name the key.
//! - the `mcpm` binary: `health`, `inspect`, `call`, `login`/`logout`, `bench`, `demo`, `serve-demo`.
//!
//! # The four rules it is built on
//! 1. Retry wraps a complete connect attempt; a guard never retries inside itself.
//! 2. Cleanup never awaits: every `Drop` is synchronous, non-blocking and needs no runtime; a graceful
//!    async `close()` is separate and optional.
//! 3. Cancellation is cleanup: dropping any future mid-way leaves no child process, task, socket,
//!    listener or port behind.
//! 4. Shutting the whole manager down covers everything, in-flight OAuth callback servers included.

//! mcp-oauth through its public API, against scripted servers and real TCP on 127.0.0.1, one module
//! per area, in one test binary.
//!
//! `browser_subreaper` is a binary of its own: it makes its whole process a child subreaper, which
//! would adopt what the tests beside it leave behind.

mod browser;
mod callback;
mod discovery;
mod dpop;
mod flow;
mod grant;
mod logout;
mod registration;
mod support;
mod token_response;

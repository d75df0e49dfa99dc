//! Cross-crate integration tests and the fixture servers they run against.
//!
//! **Status: skeleton.** The transport, manager and OAuth issues add fault-injecting fixture servers here
//! (crash during initialize, crash mid-call, hang, garbage or oversized lines, HTTP 5xx/429/401/404,
//! connection resets, slow drips) and the tests that prove every fault gives a typed error, the right
//! retry decision and no leaked process, task, socket or port. Tests bind only to `127.0.0.1` or `[::1]`.

//! What the OAuth demo saw on the wire, for tests to assert on.

use std::collections::VecDeque;

use mcp_oauth::TokenAuthMethod;

/// How many requests of each kind [`DemoAuthStats`] keeps (the most recent ones), so a long-running
/// demo does not grow without bound.
pub const RECORDED_REQUESTS: usize = 64;

/// Counters and the most recent requests, from
/// [`DemoAuthHandle::stats`](super::DemoAuthHandle::stats).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DemoAuthStats {
    /// Authorization codes issued.
    pub authorizations: u64,
    /// Authorization requests refused (answered 400, or redirected with an `error`, `deny`
    /// included).
    pub rejected_authorizations: u64,
    /// Clients registered dynamically.
    pub registrations: u64,
    /// Registration requests refused.
    pub rejected_registrations: u64,
    /// Token requests with `grant_type=authorization_code`, answered with tokens or not.
    pub code_exchanges: u64,
    /// Token requests with `grant_type=refresh_token`, answered with tokens or not.
    pub refreshes: u64,
    /// Token requests with `grant_type=client_credentials`, answered with tokens or not.
    pub client_credentials_grants: u64,
    /// Token requests refused, whatever their grant.
    pub rejected_token_requests: u64,
    /// Fetches of protected-resource metadata (any location, either resource).
    pub prm_fetches: u64,
    /// Fetches of authorization-server metadata.
    pub as_metadata_fetches: u64,
    /// MCP requests let through to the MCP server with a valid token (at `/mcp`, `/sse` or
    /// `/messages`).
    pub mcp_requests: u64,
    /// 401 responses from the MCP endpoints.
    pub unauthorized: u64,
    /// 403 `insufficient_scope` responses from the MCP endpoints.
    pub insufficient_scope: u64,
    /// Client ID metadata document URLs used as client ids, in order of first use.
    pub cimd_client_ids: Vec<String>,
    /// The most recent authorization requests (at most [`RECORDED_REQUESTS`]), oldest first.
    pub authorization_requests: VecDeque<RecordedRequest>,
    /// The most recent token requests (at most [`RECORDED_REQUESTS`]), oldest first.
    pub token_requests: VecDeque<RecordedRequest>,
    /// The most recent registration requests' JSON bodies (at most [`RECORDED_REQUESTS`]).
    pub registration_requests: VecDeque<serde_json::Value>,
}

impl DemoAuthStats {
    /// The most recent authorization request, if any.
    pub fn last_authorization_request(&self) -> Option<&RecordedRequest> {
        self.authorization_requests.back()
    }

    /// The most recent token request, if any.
    pub fn last_token_request(&self) -> Option<&RecordedRequest> {
        self.token_requests.back()
    }

    pub(super) fn record_authorization(&mut self, request: RecordedRequest) {
        push_bounded(&mut self.authorization_requests, request);
    }

    pub(super) fn record_token(&mut self, request: RecordedRequest) {
        push_bounded(&mut self.token_requests, request);
    }

    pub(super) fn record_registration(&mut self, body: serde_json::Value) {
        push_bounded(&mut self.registration_requests, body);
    }

    pub(super) fn record_cimd_client(&mut self, client_id: &str) {
        // Bounded like the request lists: only the first ids are kept.
        if self.cimd_client_ids.len() < RECORDED_REQUESTS
            && !self.cimd_client_ids.iter().any(|id| id == client_id)
        {
            self.cimd_client_ids.push(client_id.to_owned());
        }
    }
}

fn push_bounded<T>(list: &mut VecDeque<T>, item: T) {
    if list.len() == RECORDED_REQUESTS {
        list.pop_front();
    }
    list.push_back(item);
}

/// One authorization or token request as received: its parameters in order (the query, or the
/// form body), with `client_secret` and `client_assertion` replaced by `<redacted>`; how the client
/// authenticated (token requests only); and the OAuth `error` it was answered with, if any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The parameters, in the order they came, repeats included.
    pub params: Vec<(String, String)>,
    /// How the client authenticated at the token endpoint: `None` for authorization requests and
    /// for token requests that mixed methods.
    pub client_auth: Option<TokenAuthMethod>,
    /// The `error` of the answer (`invalid_grant`, `access_denied`, …); `None` if it succeeded.
    pub error: Option<String>,
}

impl RecordedRequest {
    /// The first value of the parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Whether the parameter `name` was sent.
    pub fn has(&self, name: &str) -> bool {
        self.param(name).is_some()
    }

    /// The parameters with secrets replaced, as recorded.
    pub(super) fn redacted(params: &[(String, String)]) -> Vec<(String, String)> {
        params
            .iter()
            .map(|(key, value)| {
                let value = if matches!(key.as_str(), "client_secret" | "client_assertion") {
                    "<redacted>".to_owned()
                } else {
                    value.clone()
                };
                (key.clone(), value)
            })
            .collect()
    }
}

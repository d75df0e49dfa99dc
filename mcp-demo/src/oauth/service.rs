//! Routing, and the MCP endpoints as two protected resources: bearer tokens checked (each
//! resource accepts only tokens issued for it), challenges sent, and the step-up check on
//! `tools/call`, the same for streamable HTTP (`/mcp`) and the legacy HTTP+SSE transport (`/sse`
//! and `/messages`, one resource named by the SSE URL).

use std::{convert::Infallible, net::SocketAddr, sync::Arc};

use http::{
    HeaderMap, HeaderValue, Method, Request, Response, StatusCode,
    header::{AUTHORIZATION, WWW_AUTHENTICATE},
};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use serde_json::Value;

use super::{
    Auth,
    registry::AccessCheck,
    site::Resource,
    wire::{
        BodyError, MAX_FORM_BODY, MAX_MCP_BODY, OAuthError, json, method_not_allowed, read_body,
        text,
    },
};
use crate::DemoEra;
use crate::http::{DemoBody, DemoFuture, DemoService, McpEndpoints, not_found};

/// The OAuth demo's service: the authorization server's paths, and the MCP endpoints behind a
/// bearer check.
#[derive(Clone)]
pub(super) struct AuthService {
    mcp: McpEndpoints,
    auth: Arc<Auth>,
}

impl AuthService {
    pub(super) fn new(addr: SocketAddr, auth: Arc<Auth>) -> Self {
        Self {
            mcp: McpEndpoints::new(addr.ip(), DemoEra::Both),
            auth,
        }
    }

    async fn route(self, request: Request<Incoming>) -> Response<DemoBody> {
        let path = request.uri().path();
        let site = &self.auth.site;
        if McpEndpoints::serves(path) {
            return self.protected(request).await;
        }
        let method = request.method();
        if let Some(&(_, resource)) = site.prm.iter().find(|(served, _)| served == path) {
            if method != Method::GET {
                return method_not_allowed("GET");
            }
            return self.auth.protected_resource_metadata(resource);
        }
        if site.as_metadata.as_deref() == Some(path) {
            if method != Method::GET {
                return method_not_allowed("GET");
            }
            return self.auth.authorization_server_metadata();
        }
        if path == site.authorize {
            if method != Method::GET {
                return method_not_allowed("GET");
            }
            return self.auth.authorize(request.uri().query());
        }
        let register = site.register.as_deref() == Some(path);
        if path == site.token || register {
            if method != Method::POST {
                return method_not_allowed("POST");
            }
            let (parts, body) = request.into_parts();
            let body = match read_body(body, MAX_FORM_BODY).await {
                Ok(body) => body,
                Err(error) => return OAuthError::body(error).into_response(),
            };
            return if register {
                self.auth.register(&parts.headers, &body)
            } else {
                self.auth.token(&parts.headers, &body)
            };
        }
        not_found()
    }

    /// The MCP endpoints, for requests with a valid token for their resource, of enough scope. A
    /// legacy SSE session is checked when it opens (`GET /sse`) and at every message
    /// (`POST /messages`).
    async fn protected(self, request: Request<Incoming>) -> Response<DemoBody> {
        let resource = Resource::serving(request.uri().path());
        let scopes = match self.auth.check_bearer(request.headers(), resource) {
            Checked::Granted(scopes) => scopes,
            Checked::Refused(refusal) => return refusal,
        };
        let step_up = self.auth.options.step_up.as_ref();
        let Some((tool, scope)) = step_up.filter(|_| request.method() == Method::POST) else {
            self.auth.registry().stats.mcp_requests += 1;
            return self.mcp.handle(request).await;
        };
        // Which tool is called is in the body, so it is read here and handed on to rmcp.
        let (parts, body) = request.into_parts();
        let body = match read_body(body, MAX_MCP_BODY).await {
            Ok(body) => body,
            Err(BodyError::TooLarge) => {
                return text(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "the request body is too large\n",
                );
            }
            Err(BodyError::Broken) => {
                return text(StatusCode::BAD_REQUEST, "the request body broke off\n");
            }
        };
        if calls_tool(&body, tool) && !scopes.iter().any(|granted| granted == scope) {
            return self.auth.insufficient_scope(scope, resource);
        }
        self.auth.registry().stats.mcp_requests += 1;
        self.mcp
            .handle(Request::from_parts(parts, Full::new(body)))
            .await
    }
}

impl DemoService for AuthService {
    fn endpoints(&self) -> &McpEndpoints {
        &self.mcp
    }
}

impl hyper::service::Service<Request<Incoming>> for AuthService {
    type Response = Response<DemoBody>;
    type Error = Infallible;
    type Future = DemoFuture;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let service = self.clone();
        Box::pin(async move { Ok(service.route(request).await) })
    }
}

impl Auth {
    /// The granted scopes of the request's bearer token, if it is one for `resource`, or the
    /// response refusing it.
    fn check_bearer(&self, headers: &HeaderMap, resource: Resource) -> Checked {
        let token = match bearer(headers) {
            Bearer::Token(token) => token,
            Bearer::Missing => return Checked::Refused(self.unauthorized(None, resource)),
            Bearer::Malformed => {
                return Checked::Refused(self.challenge(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "one Authorization: Bearer header with a token is expected",
                    self.options.challenge_scope.as_deref(),
                    resource,
                ));
            }
        };
        let check = self.registry().check_access(token, resource);
        let why = match check {
            AccessCheck::Valid(scopes) => return Checked::Granted(scopes),
            AccessCheck::OtherAudience => "the access token was issued for another resource",
            AccessCheck::Expired => "the access token expired",
            AccessCheck::Unknown => "unknown access token",
        };
        Checked::Refused(self.unauthorized(Some(why), resource))
    }

    /// A 401 from an endpoint of `resource`: without an error code when no token was sent
    /// (RFC 6750 §3.1), else `invalid_token` with `why`.
    fn unauthorized(&self, why: Option<&str>, resource: Resource) -> Response<DemoBody> {
        self.registry().stats.unauthorized += 1;
        let scope = self.options.challenge_scope.as_deref();
        match why {
            Some(why) => self.challenge(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                why,
                scope,
                resource,
            ),
            None => {
                let mut response = text(
                    StatusCode::UNAUTHORIZED,
                    "this MCP server requires an OAuth access token; see WWW-Authenticate\n",
                );
                response.headers_mut().insert(
                    WWW_AUTHENTICATE,
                    self.challenge_header(None, scope, resource),
                );
                response
            }
        }
    }

    /// A 403 `insufficient_scope` from an endpoint of `resource`, naming the scope the call needs.
    fn insufficient_scope(&self, scope: &str, resource: Resource) -> Response<DemoBody> {
        self.registry().stats.insufficient_scope += 1;
        self.challenge(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "this tool needs a scope the access token lacks",
            Some(scope),
            resource,
        )
    }

    /// A response with a `Bearer` challenge carrying `error`, and the same as a JSON body.
    fn challenge(
        &self,
        status: StatusCode,
        error: &'static str,
        description: &str,
        scope: Option<&str>,
        resource: Resource,
    ) -> Response<DemoBody> {
        let body = serde_json::json!({ "error": error, "error_description": description });
        let mut response = json(status, &body);
        response.headers_mut().insert(
            WWW_AUTHENTICATE,
            self.challenge_header(Some((error, description)), scope, resource),
        );
        response
    }

    /// `Bearer error="…", error_description="…", scope="…", resource_metadata="…"`, with what
    /// applies; `resource_metadata` names `resource`'s document. Every value is ours (no quotes or
    /// backslashes in them), so none needs escaping.
    fn challenge_header(
        &self,
        error: Option<(&str, &str)>,
        scope: Option<&str>,
        resource: Resource,
    ) -> HeaderValue {
        let mut params = Vec::new();
        if let Some((error, description)) = error {
            params.push(format!("error=\"{error}\""));
            params.push(format!("error_description=\"{description}\""));
        }
        if let Some(scope) = scope {
            params.push(format!("scope=\"{scope}\""));
        }
        if let Some(url) = self.site.resource_metadata(resource) {
            params.push(format!("resource_metadata=\"{url}\""));
        }
        let challenge = if params.is_empty() {
            "Bearer".to_owned()
        } else {
            format!("Bearer {}", params.join(", "))
        };
        HeaderValue::from_str(&challenge).unwrap_or(HeaderValue::from_static("Bearer"))
    }
}

/// The outcome of checking a request's bearer token.
enum Checked {
    /// The token's scopes.
    Granted(Vec<String>),
    /// The 401 (or 400) to answer with.
    Refused(Response<DemoBody>),
}

/// What the `Authorization` header holds.
enum Bearer<'a> {
    Token(&'a str),
    /// No header, or another scheme: no bearer credentials at all.
    Missing,
    /// Several headers, or `Bearer` without a usable token.
    Malformed,
}

fn bearer(headers: &HeaderMap) -> Bearer<'_> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Bearer::Missing;
    };
    if values.next().is_some() {
        return Bearer::Malformed;
    }
    let Ok(value) = value.to_str() else {
        return Bearer::Malformed;
    };
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Bearer::Missing;
    }
    let token = token.trim();
    // RFC 6750 §2.1: b64token characters.
    let b64token = |byte: u8| byte.is_ascii_alphanumeric() || b"-._~+/=".contains(&byte);
    if token.is_empty() || !token.bytes().all(b64token) {
        return Bearer::Malformed;
    }
    Bearer::Token(token)
}

/// Whether a JSON-RPC message (or batch) calls the tool `tool`. A body that is not JSON calls
/// nothing; rmcp answers it.
fn calls_tool(body: &Bytes, tool: &str) -> bool {
    let Ok(message) = serde_json::from_slice::<Value>(body) else {
        return false;
    };
    let calls = |message: &Value| {
        message.get("method").and_then(Value::as_str) == Some("tools/call")
            && message.pointer("/params/name").and_then(Value::as_str) == Some(tool)
    };
    match &message {
        Value::Array(batch) => batch.iter().any(calls),
        message => calls(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(AUTHORIZATION, value.parse().expect("a header value"));
        }
        headers
    }

    #[test]
    fn bearer_tokens_are_read_from_one_authorization_header() {
        assert!(matches!(
            bearer(&headers(&["Bearer abc-123"])),
            Bearer::Token("abc-123")
        ));
        assert!(matches!(
            bearer(&headers(&["bearer abc"])),
            Bearer::Token("abc")
        ));
        assert!(matches!(bearer(&headers(&[])), Bearer::Missing));
        assert!(matches!(bearer(&headers(&["Basic abc"])), Bearer::Missing));
        assert!(matches!(bearer(&headers(&["Bearer"])), Bearer::Malformed));
        assert!(matches!(
            bearer(&headers(&["Bearer a b"])),
            Bearer::Malformed
        ));
        assert!(matches!(
            bearer(&headers(&["Bearer a", "Bearer b"])),
            Bearer::Malformed
        ));
    }

    #[test]
    fn tool_calls_are_found_in_messages_and_batches() {
        let call = |name: &str| {
            format!(
                r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"{name}"}}}}"#
            )
        };
        assert!(calls_tool(&Bytes::from(call("add")), "add"));
        assert!(!calls_tool(&Bytes::from(call("echo")), "add"));
        assert!(calls_tool(
            &Bytes::from(format!("[{}]", call("add"))),
            "add"
        ));
        assert!(!calls_tool(&Bytes::from_static(b"not json"), "add"));
        let list = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"name":"add"}}"#;
        assert!(!calls_tool(&Bytes::from_static(list.as_bytes()), "add"));
    }
}

//! The authorization endpoint: checks the request as a real server would, then approves it at
//! once (there is no login page) or, with `deny`, refuses as a user would.

use http::Response;
use url::Url;

use super::{
    Auth, IssParameter, RecordedRequest,
    registry::{Binding, Client, Registry},
    site::Resource,
    wire::{
        OAuthError, Params, found, loopback_redirect, param, parse_params, repeated, same_but_port,
    },
};
use crate::http::DemoBody;

/// Where the answer goes.
enum Answer {
    /// Back to the client: a code, or an error with the client's `state`.
    Redirect(Url, Option<&'static str>),
    /// To the user, never to an unchecked redirect URI (RFC 6749 §4.1.2.1).
    Direct(OAuthError),
}

impl Auth {
    /// Answers `GET {issuer_path}/authorize?{query}`.
    pub(super) fn authorize(&self, query: Option<&str>) -> Response<DemoBody> {
        let params = parse_params(query.unwrap_or_default().as_bytes());
        let mut registry = self.registry();
        let answer = self.authorize_in(&mut registry, &params);
        let error = match &answer {
            Answer::Redirect(_, error) => *error,
            Answer::Direct(error) => Some(error.error),
        };
        let stats = &mut registry.stats;
        if error.is_some() {
            stats.rejected_authorizations += 1;
        } else {
            stats.authorizations += 1;
        }
        stats.record_authorization(RecordedRequest {
            params: RecordedRequest::redacted(&params),
            client_auth: None,
            error: error.map(str::to_owned),
        });
        match answer {
            Answer::Redirect(location, _) => found(&location),
            Answer::Direct(error) => error.into_response(),
        }
    }

    fn authorize_in(&self, registry: &mut Registry, params: &Params) -> Answer {
        if let Some(name) = repeated(params) {
            return Answer::Direct(OAuthError::new(
                "invalid_request",
                format!("the parameter {name} is repeated"),
            ));
        }
        let (client_id, redirect) = match self.check_client(registry, params) {
            Ok(checked) => checked,
            Err(error) => return Answer::Direct(error),
        };
        // From here on the redirect URI is trusted, so errors go back to the client.
        let state = param(params, "state");
        let outcome = self
            .check_request(params, client_id, state.is_some())
            .and_then(|binding| {
                if self.options.deny {
                    return Err(OAuthError::new(
                        "access_denied",
                        "the user denied the request (the demo's deny option)",
                    ));
                }
                registry.issue_code(binding)
            });
        self.redirect_back(redirect, state, outcome)
    }

    /// The authorization response (RFC 6749 §4.1.2): the code or the error, the client's `state`,
    /// and `iss` as the options say (RFC 9207 sends it with errors too).
    fn redirect_back(
        &self,
        mut location: Url,
        state: Option<&str>,
        outcome: Result<String, OAuthError>,
    ) -> Answer {
        let mut query = location.query_pairs_mut();
        let error = match &outcome {
            Ok(code) => {
                query.append_pair("code", code);
                None
            }
            Err(error) => {
                query
                    .append_pair("error", error.error)
                    .append_pair("error_description", &error.description);
                Some(error.error)
            }
        };
        if let Some(state) = state {
            query.append_pair("state", state);
        }
        match self.options.iss_parameter {
            IssParameter::Omit => {}
            IssParameter::Correct => {
                query.append_pair("iss", &self.site.issuer);
            }
            IssParameter::Wrong => {
                query.append_pair("iss", "https://wrong-issuer.example");
            }
        }
        drop(query);
        Answer::Redirect(location, error)
    }

    /// The client and its redirect URI, which must both be right before anything is sent to it.
    fn check_client(
        &self,
        registry: &mut Registry,
        params: &Params,
    ) -> Result<(String, Url), OAuthError> {
        let Some(client_id) = param(params, "client_id") else {
            return Err(OAuthError::new("invalid_request", "client_id is missing"));
        };
        let Some(client) = registry.client(client_id, self.options.cimd) else {
            let why = if super::wire::is_cimd_url(client_id) {
                "client ID metadata documents are not supported by this server"
            } else {
                "unknown client_id"
            };
            return Err(OAuthError::new("invalid_client", why));
        };
        let Some(redirect_uri) = param(params, "redirect_uri") else {
            return Err(OAuthError::new(
                "invalid_request",
                "redirect_uri is missing",
            ));
        };
        let redirect = loopback_redirect(redirect_uri)
            .map_err(|why| OAuthError::new("invalid_request", why))?;
        if !registered(&client, &redirect) {
            return Err(OAuthError::new(
                "invalid_request",
                "redirect_uri is not registered for this client",
            ));
        }
        if client.cimd {
            registry.stats.record_cimd_client(client_id);
        }
        Ok((client_id.to_owned(), redirect))
    }

    /// Everything else about the request, in the order a client is likely to get it wrong.
    fn check_request(
        &self,
        params: &Params,
        client_id: String,
        has_state: bool,
    ) -> Result<Binding, OAuthError> {
        if param(params, "response_type") != Some("code") {
            return Err(OAuthError::new(
                "unsupported_response_type",
                "response_type must be code",
            ));
        }
        if !has_state {
            return Err(OAuthError::new(
                "invalid_request",
                "state is missing (this server requires one)",
            ));
        }
        let Some(challenge) = param(params, "code_challenge") else {
            return Err(OAuthError::new(
                "invalid_request",
                "code_challenge is missing (PKCE is required)",
            ));
        };
        if !super::token::is_pkce_value(challenge) {
            return Err(OAuthError::new(
                "invalid_request",
                "code_challenge must be 43 to 128 unreserved characters (RFC 7636 §4.2)",
            ));
        }
        // RFC 7636 §4.3: an absent method means plain.
        let method = param(params, "code_challenge_method").unwrap_or("plain");
        let s256 = self.options.s256;
        if method != if s256 { "S256" } else { "plain" } {
            let why = if s256 {
                "code_challenge_method must be S256"
            } else {
                "this server supports only the plain code_challenge_method"
            };
            return Err(OAuthError::new("invalid_request", why));
        }
        let resource = self.check_resource(param(params, "resource"), true)?;
        let scopes = self.check_scopes(param(params, "scope"))?;
        Ok(Binding {
            client_id,
            redirect_uri: param(params, "redirect_uri").unwrap_or_default().to_owned(),
            challenge: challenge.to_owned(),
            s256,
            resource,
            scopes,
        })
    }

    /// The `resource` of an authorization or token request: required (when `required`, and the
    /// server is not a 2025-03-26 one, whose clients do not send it), and always the canonical URL
    /// of one of the two resources, `/mcp` or `/sse`.
    pub(super) fn check_resource(
        &self,
        resource: Option<&str>,
        required: bool,
    ) -> Result<Option<Resource>, OAuthError> {
        let known = resource.and_then(|resource| self.site.resource_named(resource));
        match (resource, known) {
            (Some(_), Some(known)) => Ok(Some(known)),
            (None, _) if !required || self.options.metadata.is_legacy() => Ok(None),
            _ => Err(OAuthError::new(
                "invalid_target",
                format!(
                    "resource must be the canonical URL of this server's streamable HTTP endpoint, \
                     {}, or of its legacy HTTP+SSE endpoint, {}",
                    self.site.identifier(Resource::Mcp),
                    self.site.identifier(Resource::Sse),
                ),
            )),
        }
    }

    /// The scopes asked for, each of which must be known; none asked means `scopes_supported`.
    pub(super) fn check_scopes(&self, scope: Option<&str>) -> Result<Vec<String>, OAuthError> {
        let Some(scope) = scope else {
            return Ok(self.options.scopes_supported.clone());
        };
        let known = self.options.known_scopes();
        let mut scopes: Vec<String> = Vec::new();
        for asked in scope.split_ascii_whitespace() {
            if !known.iter().any(|scope| scope == asked) {
                return Err(OAuthError::new(
                    "invalid_scope",
                    format!("unknown scope {asked:?}; known: {}", known.join(" ")),
                ));
            }
            if !scopes.iter().any(|scope| scope == asked) {
                scopes.push(asked.to_owned());
            }
        }
        Ok(scopes)
    }
}

/// Whether `redirect` is one of the client's, whatever its port (RFC 8252 §7.3).
fn registered(client: &Client, redirect: &Url) -> bool {
    client.redirect_uris.as_ref().is_none_or(|registered| {
        registered
            .iter()
            .any(|registered| same_but_port(registered, redirect))
    })
}

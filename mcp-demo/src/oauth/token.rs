//! The token endpoint: client authentication, then the `authorization_code`, `refresh_token` and
//! `client_credentials` grants.

use base64::Engine as _;
use http::{HeaderMap, Response, StatusCode, header::AUTHORIZATION};
use mcp_oauth::TokenAuthMethod;
use serde_json::json;
use sha2::{Digest as _, Sha256};

use super::{
    Auth, RecordedRequest,
    registry::{Grant, Redeem, Registry},
    wire::{OAuthError, Params, has_content_type, json, no_store, param, parse_params, repeated},
};
use crate::http::DemoBody;

/// RFC 7523's `client_assertion_type` for a JWT.
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A client that proved who it is.
struct Authenticated {
    id: String,
    method: TokenAuthMethod,
}

impl Auth {
    /// Answers `POST {issuer_path}/token` with the form `body`.
    pub(super) fn token(&self, headers: &HeaderMap, body: &[u8]) -> Response<DemoBody> {
        let params = parse_params(body);
        let mut registry = self.registry();
        let stats = &mut registry.stats;
        match param(&params, "grant_type") {
            Some("authorization_code") => stats.code_exchanges += 1,
            Some("refresh_token") => stats.refreshes += 1,
            Some("client_credentials") => stats.client_credentials_grants += 1,
            _ => {}
        }
        let mut client_auth = None;
        let outcome = if has_content_type(headers, "application/x-www-form-urlencoded") {
            self.token_in(&mut registry, headers, &params, &mut client_auth)
        } else {
            Err(OAuthError::new(
                "invalid_request",
                "the body must be application/x-www-form-urlencoded",
            ))
        };
        let stats = &mut registry.stats;
        if outcome.is_err() {
            stats.rejected_token_requests += 1;
        }
        stats.record_token(RecordedRequest {
            params: RecordedRequest::redacted(&params),
            client_auth,
            error: outcome.as_ref().err().map(|error| error.error.to_owned()),
        });
        match outcome {
            Ok(tokens) => no_store(json(StatusCode::OK, &tokens)),
            Err(error) => error.into_response(),
        }
    }

    fn token_in(
        &self,
        registry: &mut Registry,
        headers: &HeaderMap,
        params: &Params,
        client_auth: &mut Option<TokenAuthMethod>,
    ) -> Result<serde_json::Value, OAuthError> {
        if let Some(name) = repeated(params) {
            return Err(OAuthError::new(
                "invalid_request",
                format!("the parameter {name} is repeated"),
            ));
        }
        let Some(grant_type) = param(params, "grant_type") else {
            return Err(OAuthError::new("invalid_request", "grant_type is missing"));
        };
        let client = self.authenticate(registry, headers, params, client_auth)?;
        match grant_type {
            "authorization_code" => self.code_grant(registry, params, &client),
            "refresh_token" => self.refresh_grant(registry, params, &client),
            "client_credentials" if self.options.client_credentials => {
                self.client_credentials_grant(registry, params, &client)
            }
            _ => Err(OAuthError::new(
                "unsupported_grant_type",
                format!("this server does not offer the {grant_type} grant"),
            )),
        }
    }

    /// Works out which of the four methods the client used (exactly one), and checks it.
    fn authenticate(
        &self,
        registry: &Registry,
        headers: &HeaderMap,
        params: &Params,
        client_auth: &mut Option<TokenAuthMethod>,
    ) -> Result<Authenticated, OAuthError> {
        let basic = basic_credentials(headers)?;
        let secret_post = param(params, "client_secret");
        let assertion = match param(params, "client_assertion_type") {
            Some(JWT_BEARER) => param(params, "client_assertion"),
            Some(other) => {
                return Err(OAuthError::new(
                    "invalid_request",
                    format!("unsupported client_assertion_type {other:?}"),
                ));
            }
            None => None,
        };
        let form_id = param(params, "client_id");
        let (method, id) = match (&basic, secret_post, assertion) {
            (Some((id, _)), None, None) => (TokenAuthMethod::ClientSecretBasic, Some(id.clone())),
            (None, Some(_), None) => (
                TokenAuthMethod::ClientSecretPost,
                form_id.map(str::to_owned),
            ),
            (None, None, Some(assertion)) => (
                TokenAuthMethod::PrivateKeyJwt,
                form_id
                    .map(str::to_owned)
                    .or_else(|| jwt_subject(assertion)),
            ),
            (None, None, None) => (TokenAuthMethod::None, form_id.map(str::to_owned)),
            _ => {
                return Err(OAuthError::new(
                    "invalid_request",
                    "more than one client authentication method (RFC 6749 §2.3)",
                ));
            }
        };
        *client_auth = Some(method);
        let is_basic = method == TokenAuthMethod::ClientSecretBasic;
        let Some(id) = id else {
            return Err(OAuthError::invalid_client("client_id is missing", is_basic));
        };
        if is_basic && form_id.is_some_and(|form_id| form_id != id) {
            return Err(OAuthError::new(
                "invalid_request",
                "client_id differs from the one in the Authorization header",
            ));
        }
        let Some(client) = registry.client(&id, self.options.cimd) else {
            return Err(OAuthError::invalid_client("unknown client", is_basic));
        };
        if !client.allows(method) {
            return Err(OAuthError::invalid_client(
                format!(
                    "the client is registered for {}, but authenticated with {method}",
                    client.method
                ),
                is_basic,
            ));
        }
        let proven = match method {
            TokenAuthMethod::None => true,
            TokenAuthMethod::ClientSecretBasic | TokenAuthMethod::ClientSecretPost => {
                let presented = match &basic {
                    Some((_, secret)) => Some(secret.as_str()),
                    None => secret_post,
                };
                matches!((&client.secret, presented), (Some(known), Some(presented))
                    if secrets_equal(known, presented))
            }
            TokenAuthMethod::PrivateKeyJwt => match (&self.options.jwt_verifier, assertion) {
                (Some(verify), Some(assertion)) => verify(assertion, &id),
                _ => false,
            },
            // The enum is mcp-oauth's and may grow; a method this server cannot check proves
            // nothing (and the match above only ever picks one of the four).
            _ => false,
        };
        if !proven {
            return Err(OAuthError::invalid_client(
                "client authentication failed",
                is_basic,
            ));
        }
        Ok(Authenticated { id, method })
    }

    fn code_grant(
        &self,
        registry: &mut Registry,
        params: &Params,
        client: &Authenticated,
    ) -> Result<serde_json::Value, OAuthError> {
        let Some(value) = param(params, "code") else {
            return Err(OAuthError::new("invalid_request", "code is missing"));
        };
        let code = match registry.redeem(value) {
            Redeem::Fresh(code) => code,
            Redeem::Reused(grant) => {
                registry.revoke_grant(grant);
                return Err(OAuthError::new(
                    "invalid_grant",
                    "the code was already used; the tokens issued for it are revoked",
                ));
            }
            Redeem::Unknown => {
                return Err(OAuthError::new("invalid_grant", "unknown or expired code"));
            }
        };
        let binding = &code.binding;
        if binding.client_id != client.id {
            return Err(OAuthError::new(
                "invalid_grant",
                "the code was issued to another client",
            ));
        }
        if param(params, "redirect_uri") != Some(binding.redirect_uri.as_str()) {
            return Err(OAuthError::new(
                "invalid_grant",
                "redirect_uri differs from the authorization request's",
            ));
        }
        let verified = param(params, "code_verifier").is_some_and(|verifier| {
            is_pkce_value(verifier) && pkce_matches(verifier, &binding.challenge, binding.s256)
        });
        if !verified {
            return Err(OAuthError::new(
                "invalid_grant",
                "code_verifier is missing or does not match the code_challenge",
            ));
        }
        let resource = self.check_resource(param(params, "resource"), false)?;
        if binding.resource.is_some() && resource != binding.resource {
            return Err(OAuthError::new(
                "invalid_target",
                "resource must be the authorization request's",
            ));
        }
        let refresh = Grant {
            id: code.grant,
            client_id: client.id.clone(),
            scopes: binding.scopes.clone(),
            // A 2025-03-26 client may name the resource here only.
            audience: binding.resource.or(resource),
        };
        let with_refresh = self.options.issue_refresh_tokens;
        self.issue(registry, refresh, with_refresh)
    }

    fn refresh_grant(
        &self,
        registry: &mut Registry,
        params: &Params,
        client: &Authenticated,
    ) -> Result<serde_json::Value, OAuthError> {
        let Some(value) = param(params, "refresh_token") else {
            return Err(OAuthError::new(
                "invalid_request",
                "refresh_token is missing",
            ));
        };
        let Some(grant) = registry.refresh_grant(value) else {
            return Err(OAuthError::new(
                "invalid_grant",
                "unknown, revoked or already rotated refresh token",
            ));
        };
        if grant.client_id != client.id {
            return Err(OAuthError::new(
                "invalid_grant",
                "the refresh token was issued to another client",
            ));
        }
        // Checked only when sent (clients of 2025-03-26 do not send it), and always the grant's:
        // its tokens are for one resource, and a refresh cannot move them to the other.
        let resource = self.check_resource(param(params, "resource"), false)?;
        if let (Some(asked), Some(granted)) = (resource, grant.audience)
            && asked != granted
        {
            return Err(OAuthError::new(
                "invalid_target",
                format!(
                    "resource must be the authorization's, {}",
                    self.site.identifier(granted)
                ),
            ));
        }
        let scopes = match param(params, "scope") {
            Some(scope) => {
                let asked = self.check_scopes(Some(scope))?;
                if let Some(extra) = asked.iter().find(|scope| !grant.scopes.contains(scope)) {
                    return Err(OAuthError::new(
                        "invalid_scope",
                        format!("a refresh cannot add a scope ({extra} was not granted)"),
                    ));
                }
                asked
            }
            None => grant.scopes.clone(),
        };
        let rotate = self.options.rotate_refresh_tokens;
        if rotate {
            registry.remove_refresh(value);
        }
        // A narrower scope, or a resource named for a grant that had none, applies to this access
        // token only; the grant keeps what it had.
        let access = Grant {
            scopes,
            audience: grant.audience.or(resource),
            ..grant.clone()
        };
        let mut response = self.issue(registry, access, false)?;
        if rotate {
            response["refresh_token"] = json!(registry.issue_refresh(grant)?);
        }
        Ok(response)
    }

    fn client_credentials_grant(
        &self,
        registry: &mut Registry,
        params: &Params,
        client: &Authenticated,
    ) -> Result<serde_json::Value, OAuthError> {
        if client.method == TokenAuthMethod::None {
            return Err(OAuthError::new(
                "unauthorized_client",
                "client_credentials is for confidential clients only",
            ));
        }
        let audience = self.check_resource(param(params, "resource"), true)?;
        let scopes = self.check_scopes(param(params, "scope"))?;
        let grant = Grant {
            id: registry.new_grant(),
            client_id: client.id.clone(),
            scopes,
            audience,
        };
        // RFC 6749 §4.4.3: no refresh token for this grant.
        self.issue(registry, grant, false)
    }

    /// A token response for `grant`: a new access token, and a refresh token if `with_refresh`.
    fn issue(
        &self,
        registry: &mut Registry,
        grant: Grant,
        with_refresh: bool,
    ) -> Result<serde_json::Value, OAuthError> {
        let lifetime = self.options.access_token_lifetime;
        let access_token = registry.issue_access(&grant, lifetime)?;
        let mut response = json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": lifetime.as_secs().max(1),
        });
        if !grant.scopes.is_empty() {
            response["scope"] = json!(grant.scopes.join(" "));
        }
        if with_refresh {
            response["refresh_token"] = json!(registry.issue_refresh(grant)?);
        }
        Ok(response)
    }
}

/// The client id and secret of an `Authorization: Basic` header, if there is one.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let malformed = || OAuthError::invalid_client("malformed Basic credentials", true);
    if values.next().is_some() {
        return Err(malformed());
    }
    let value = value.to_str().map_err(|_| malformed())?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Err(malformed());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::invalid_client(
            "the token endpoint takes Basic credentials only in Authorization",
            true,
        ));
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    // RFC 6749 §2.3.1: both are form-encoded before being joined.
    let id = form_decode(id).ok_or_else(malformed)?;
    let secret = form_decode(secret).ok_or_else(malformed)?;
    Ok(Some((id, secret)))
}

/// Decodes `application/x-www-form-urlencoded` text (`%XX` and `+`); `None` if it is malformed or
/// not UTF-8.
fn form_decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut input = text.bytes();
    while let Some(byte) = input.next() {
        match byte {
            b'+' => bytes.push(b' '),
            b'%' => {
                let high = char::from(input.next()?).to_digit(16)?;
                let low = char::from(input.next()?).to_digit(16)?;
                bytes.push(u8::try_from(high * 16 + low).ok()?);
            }
            _ => bytes.push(byte),
        }
    }
    String::from_utf8(bytes).ok()
}

/// The `sub` of a JWT's payload, read without checking the signature (the verifier does that):
/// RFC 7523 makes it the client id when the form does not name one.
fn jwt_subject(assertion: &str) -> Option<String> {
    let payload = assertion.split('.').nth(1)?;
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&payload).ok()?;
    claims.get("sub")?.as_str().map(str::to_owned)
}

/// Whether `value` can be a PKCE verifier or challenge: 43 to 128 unreserved characters
/// (RFC 7636 §4.1).
pub(super) fn is_pkce_value(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-._~".contains(&byte))
}

/// RFC 7636 §4.6: S256 compares BASE64URL(SHA256(verifier)) with the challenge; plain compares
/// them as they are.
fn pkce_matches(verifier: &str, challenge: &str, s256: bool) -> bool {
    if s256 {
        let digest = Sha256::digest(verifier.as_bytes());
        let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
        secrets_equal(&computed, challenge)
    } else {
        secrets_equal(verifier, challenge)
    }
}

/// Compares secrets in time that depends only on their length.
fn secrets_equal(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |difference, (x, y)| difference | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_s256_challenge_of_rfc_7636_appendix_b_matches_its_verifier() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches(verifier, challenge, true));
        assert!(!pkce_matches(challenge, challenge, true));
        assert!(pkce_matches(challenge, challenge, false));
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let mut headers = HeaderMap::new();
        let encoded = base64::engine::general_purpose::STANDARD.encode("my%20client:s%3Acret+x");
        headers.insert(
            AUTHORIZATION,
            format!("Basic {encoded}").parse().expect("a header value"),
        );
        let (id, secret) = basic_credentials(&headers)
            .expect("well formed")
            .expect("present");
        assert_eq!(id, "my client");
        assert_eq!(secret, "s:cret x");
    }

    #[test]
    fn the_jwt_subject_is_read_from_the_payload() {
        let payload =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"sub":"jwt-client"}"#);
        assert_eq!(
            jwt_subject(&format!("e30.{payload}.sig")).as_deref(),
            Some("jwt-client")
        );
        assert_eq!(jwt_subject("not a jwt"), None);
    }
}

//! Dynamic client registration (RFC 7591), for loopback native clients only.

use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderMap, Response, StatusCode};
use mcp_oauth::TokenAuthMethod;
use serde_json::{Map, Value, json};
use url::Url;

use super::{
    Auth,
    options::uses_secret,
    registry::{Client, Registry},
    wire::{OAuthError, has_content_type, json, loopback_redirect, no_store},
};
use crate::http::DemoBody;

impl Auth {
    /// Answers `POST {issuer_path}/register` with the JSON `body`.
    pub(super) fn register(&self, headers: &HeaderMap, body: &[u8]) -> Response<DemoBody> {
        let metadata = if has_content_type(headers, "application/json") {
            serde_json::from_slice::<Value>(body).ok()
        } else {
            None
        };
        let mut registry = self.registry();
        if let Some(metadata) = &metadata {
            registry.stats.record_registration(metadata.clone());
        }
        let outcome = match metadata {
            Some(Value::Object(metadata)) => self.register_in(&mut registry, metadata),
            _ => Err(OAuthError::new(
                "invalid_client_metadata",
                "the body must be a JSON object (application/json)",
            )),
        };
        match outcome {
            Ok(registered) => {
                registry.stats.registrations += 1;
                no_store(json(StatusCode::CREATED, &registered))
            }
            Err(error) => {
                registry.stats.rejected_registrations += 1;
                error.into_response()
            }
        }
    }

    fn register_in(
        &self,
        registry: &mut Registry,
        mut metadata: Map<String, Value>,
    ) -> Result<Value, OAuthError> {
        let redirect_uris = redirect_uris(metadata.get("redirect_uris"))?;
        // RFC 7591 §2: the default is client_secret_basic.
        let method = match metadata.get("token_endpoint_auth_method") {
            None => TokenAuthMethod::ClientSecretBasic,
            Some(Value::String(method)) => match method.as_str() {
                "none" => TokenAuthMethod::None,
                "client_secret_basic" => TokenAuthMethod::ClientSecretBasic,
                "client_secret_post" => TokenAuthMethod::ClientSecretPost,
                other => {
                    return Err(OAuthError::new(
                        "invalid_client_metadata",
                        format!(
                            "token_endpoint_auth_method {other:?} cannot be registered here; \
                             use none, client_secret_basic or client_secret_post"
                        ),
                    ));
                }
            },
            Some(_) => return Err(bad_field("token_endpoint_auth_method")),
        };
        let grant_types = strings(&metadata, "grant_types", &["authorization_code"])?;
        for grant in &grant_types {
            let offered = match grant.as_str() {
                "authorization_code" | "refresh_token" => true,
                "client_credentials" => {
                    self.options.client_credentials && method != TokenAuthMethod::None
                }
                _ => false,
            };
            if !offered {
                return Err(OAuthError::new(
                    "invalid_client_metadata",
                    format!("the grant type {grant:?} is not offered to this client"),
                ));
            }
        }
        let response_types = strings(&metadata, "response_types", &["code"])?;
        if response_types.iter().any(|kind| kind != "code") {
            return Err(OAuthError::new(
                "invalid_client_metadata",
                "response_types may only be [\"code\"]",
            ));
        }
        let secret = uses_secret(method).then(Registry::new_secret).transpose()?;
        let client = Client {
            method,
            secret: secret.clone(),
            redirect_uris: Some(redirect_uris),
            cimd: false,
        };
        let id = registry.register(client)?;
        // The answer is the metadata as registered, with the defaults filled in (§3.2.1).
        metadata.insert("client_id".to_owned(), json!(id));
        metadata.insert("client_id_issued_at".to_owned(), json!(unix_now()));
        metadata.insert(
            "token_endpoint_auth_method".to_owned(),
            json!(method.as_str()),
        );
        metadata.insert("grant_types".to_owned(), json!(grant_types));
        metadata.insert("response_types".to_owned(), json!(response_types));
        if let Some(secret) = secret {
            metadata.insert("client_secret".to_owned(), json!(secret));
            metadata.insert("client_secret_expires_at".to_owned(), json!(0));
        }
        Ok(Value::Object(metadata))
    }
}

/// The registered redirect URIs: at least one, each a loopback IP literal.
fn redirect_uris(value: Option<&Value>) -> Result<Vec<Url>, OAuthError> {
    let invalid = |why: String| OAuthError::new("invalid_redirect_uri", why);
    let Some(Value::Array(uris)) = value else {
        return Err(invalid(
            "redirect_uris must be a non-empty array".to_owned(),
        ));
    };
    if uris.is_empty() {
        return Err(invalid(
            "redirect_uris must be a non-empty array".to_owned(),
        ));
    }
    uris.iter()
        .map(|uri| match uri {
            Value::String(uri) => loopback_redirect(uri).map_err(invalid),
            _ => Err(invalid("each redirect URI must be a string".to_owned())),
        })
        .collect()
}

/// The array of strings `name`, or `default` when absent.
fn strings(
    metadata: &Map<String, Value>,
    name: &'static str,
    default: &[&str],
) -> Result<Vec<String>, OAuthError> {
    match metadata.get(name) {
        None => Ok(default.iter().map(|&value| value.to_owned()).collect()),
        Some(Value::Array(values)) => values
            .iter()
            .map(|value| {
                value
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| bad_field(name))
            })
            .collect(),
        Some(_) => Err(bad_field(name)),
    }
}

fn bad_field(name: &str) -> OAuthError {
    OAuthError::new(
        "invalid_client_metadata",
        format!("{name} has the wrong type"),
    )
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

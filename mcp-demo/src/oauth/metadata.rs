//! The two metadata documents: protected resource (RFC 9728) and authorization server (RFC 8414,
//! also served at the OpenID Connect Discovery locations).

use http::{Response, StatusCode};
use mcp_oauth::TokenAuthMethod;
use serde_json::{Value, json};

use super::{Auth, site::Resource, wire::json};
use crate::http::DemoBody;

impl Auth {
    /// The protected-resource metadata of `resource`, at whichever well-known path was asked.
    pub(super) fn protected_resource_metadata(&self, resource: Resource) -> Response<DemoBody> {
        self.registry().stats.prm_fetches += 1;
        let site = &self.site;
        let identifier = if self.options.wrong_resource {
            site.url(&format!("/elsewhere{}", resource.path()))
        } else {
            site.identifier(resource)
        };
        let name = match resource {
            Resource::Mcp => "mcpcord demo",
            Resource::Sse => "mcpcord demo (legacy HTTP+SSE)",
        };
        let mut document = json!({
            "resource": identifier,
            "authorization_servers": [site.issuer],
            "bearer_methods_supported": ["header"],
            "resource_name": name,
        });
        if self.options.scopes_in_prm {
            document["scopes_supported"] = json!(self.options.scopes_supported);
        }
        json(StatusCode::OK, &document)
    }

    /// The authorization server metadata.
    pub(super) fn authorization_server_metadata(&self) -> Response<DemoBody> {
        self.registry().stats.as_metadata_fetches += 1;
        json(StatusCode::OK, &self.authorization_server_document())
    }

    fn authorization_server_document(&self) -> Value {
        let (site, options) = (&self.site, &self.options);
        let mut grants = vec!["authorization_code"];
        if options.issue_refresh_tokens {
            grants.push("refresh_token");
        }
        if options.client_credentials {
            grants.push("client_credentials");
        }
        let mut auth_methods = vec![
            TokenAuthMethod::None,
            TokenAuthMethod::ClientSecretBasic,
            TokenAuthMethod::ClientSecretPost,
        ];
        if options.jwt_verifier.is_some() {
            auth_methods.push(TokenAuthMethod::PrivateKeyJwt);
        }
        let auth_methods: Vec<&str> = auth_methods
            .into_iter()
            .map(TokenAuthMethod::as_str)
            .collect();
        let pkce = if options.s256 { "S256" } else { "plain" };
        let mut document = json!({
            "issuer": site.advertised_issuer,
            "authorization_endpoint": site.url(&site.authorize),
            "token_endpoint": site.url(&site.token),
            "scopes_supported": options.known_scopes(),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": grants,
            "token_endpoint_auth_methods_supported": auth_methods,
            "code_challenge_methods_supported": [pkce],
        });
        if let Some(register) = &site.register {
            document["registration_endpoint"] = json!(site.url(register));
        }
        if options.jwt_verifier.is_some() {
            // What the verifier checks is up to whoever supplied it; ES256 is what ours do.
            document["token_endpoint_auth_signing_alg_values_supported"] = json!(["ES256"]);
        }
        if options.advertise_iss_parameter {
            document["authorization_response_iss_parameter_supported"] = json!(true);
        }
        if options.cimd {
            document["client_id_metadata_document_supported"] = json!(true);
        }
        document
    }
}

//! The `oauth` table: a pre-registered client, scopes, the callback port, metadata-document and
//! identity-provider URLs, the grant and the client's token endpoint authentication, what each
//! grant needs, and whether tokens may be DPoP-bound.

use mcp_oauth::TokenAuthMethod;
use url::Url;

use super::super::document::{Node, Value};
use super::super::types::{OAuthConfig, OAuthGrant};
use super::keys::OAUTH_KEYS;
use super::values::{quoted_list, shown_url};
use super::{Schema, join};

/// The token endpoint authentication methods a pre-registered client may use.
const AUTH_METHODS: &[&str] = &[
    "none",
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
];

/// The method a file names, if it is one of [`AUTH_METHODS`]: that list, not whatever
/// `mcp_oauth` may learn to parse later, is what the error message promises.
fn auth_method(name: &str) -> Option<TokenAuthMethod> {
    if AUTH_METHODS.contains(&name) {
        TokenAuthMethod::parse(name)
    } else {
        None
    }
}

impl Schema<'_> {
    pub(super) fn oauth(&mut self, node: &Node, path: &str) -> Option<OAuthConfig> {
        let entries = self.table(node, path)?;
        let before = self.problems.len();
        let mut oauth = OAuthConfig::default();
        let mut client_id_given = false;
        let mut secret_entry = None;
        for entry in self.unique(entries, path) {
            let key_path = join(path, &entry.key);
            match entry.key.as_str() {
                "client_id" => {
                    client_id_given = true;
                    oauth.client_id = self
                        .non_empty_string(&entry.value, &key_path)
                        .map(str::to_owned);
                }
                "client_secret_env" => {
                    secret_entry = Some(entry);
                    oauth.client_secret_env =
                        self.env_name(&entry.value, &key_path, "the client secret");
                }
                "scopes" => {
                    if let Some(scopes) = self.scopes(&entry.value, &key_path) {
                        oauth.scopes = scopes;
                    }
                }
                "callback_port" => oauth.callback_port = self.port(&entry.value, &key_path),
                "client_metadata_url" => {
                    oauth.client_metadata_url = self.metadata_url(&entry.value, &key_path);
                }
                "grant" => match self.string(&entry.value, &key_path) {
                    Some("authorization_code") => oauth.grant = OAuthGrant::AuthorizationCode,
                    Some("client_credentials") => oauth.grant = OAuthGrant::ClientCredentials,
                    Some("enterprise_managed") => oauth.grant = OAuthGrant::EnterpriseManaged,
                    Some("jwt_bearer") => oauth.grant = OAuthGrant::JwtBearer,
                    Some(_) => self.report(
                        &entry.value.span,
                        &key_path,
                        "must be \"authorization_code\", \"client_credentials\", \
                         \"enterprise_managed\" or \"jwt_bearer\"",
                    ),
                    None => {}
                },
                "token_endpoint_auth_method" => {
                    if let Some(name) = self.string(&entry.value, &key_path) {
                        match auth_method(name) {
                            Some(method) => oauth.token_endpoint_auth_method = Some(method),
                            None => self.report(
                                &entry.value.span,
                                &key_path,
                                format!("must be one of {}", quoted_list(AUTH_METHODS)),
                            ),
                        }
                    }
                }
                "private_key_env" => {
                    oauth.private_key_env =
                        self.env_name(&entry.value, &key_path, "the client's private key");
                }
                "idp_token_endpoint" => {
                    oauth.idp_token_endpoint = self.metadata_url(&entry.value, &key_path);
                }
                "idp_client_id" => {
                    oauth.idp_client_id = self
                        .non_empty_string(&entry.value, &key_path)
                        .map(str::to_owned);
                }
                "id_token_env" => {
                    oauth.id_token_env =
                        self.env_name(&entry.value, &key_path, "the user's ID token");
                }
                "assertion_env" => {
                    oauth.assertion_env =
                        self.env_name(&entry.value, &key_path, "the workload's identity token");
                }
                // A path like `cwd`'s: relative to the config file's directory unless absolute.
                "assertion_file" => oauth.assertion_file = self.cwd(&entry.value, &key_path),
                "dpop" => oauth.dpop = self.bool(&entry.value, &key_path),
                _ => self.unknown_key(entry, path, OAUTH_KEYS),
            }
        }
        if let (Some(entry), false) = (secret_entry, client_id_given) {
            self.report(
                &entry.key_span,
                path,
                "\"client_secret_env\" needs \"client_id\": a client secret belongs to a \
                 pre-registered client",
            );
        }
        if oauth.grant == OAuthGrant::ClientCredentials && !client_id_given {
            self.report(
                &node.span,
                path,
                "grant = \"client_credentials\" needs \"client_id\": the client credentials \
                 grant is for a pre-registered client",
            );
        }
        if oauth.grant == OAuthGrant::EnterpriseManaged
            && (!client_id_given
                || oauth.idp_token_endpoint.is_none()
                || oauth.idp_client_id.is_none()
                || oauth.id_token_env.is_none())
        {
            self.report(
                &node.span,
                path,
                "grant = \"enterprise_managed\" needs \"client_id\", \"idp_token_endpoint\", \
                 \"idp_client_id\" and \"id_token_env\"",
            );
        }
        let assertion_sources = usize::from(oauth.assertion_env.is_some())
            + usize::from(oauth.assertion_file.is_some());
        if oauth.grant == OAuthGrant::JwtBearer && assertion_sources != 1 {
            self.report(
                &node.span,
                path,
                "grant = \"jwt_bearer\" needs exactly one of \"assertion_env\" and \
                 \"assertion_file\": where the workload's identity token is",
            );
        }
        if oauth.grant != OAuthGrant::JwtBearer && assertion_sources > 0 {
            self.report(
                &node.span,
                path,
                "\"assertion_env\" and \"assertion_file\" are for grant = \"jwt_bearer\"",
            );
        }
        (self.problems.len() == before).then_some(oauth)
    }

    fn scopes(&mut self, node: &Node, path: &str) -> Option<Vec<String>> {
        let scopes = self.string_list(node, path)?;
        let Value::Array(items) = &node.value else {
            return None;
        };
        let mut ok = true;
        for (i, (scope, item)) in scopes.iter().zip(items).enumerate() {
            if scope.is_empty() || scope.contains(char::is_whitespace) {
                self.report(
                    &item.span,
                    &format!("{path}[{i}]"),
                    "a scope is one word; list several as separate strings, such as \
                     [\"read\", \"write\"]",
                );
                ok = false;
            }
        }
        ok.then_some(scopes)
    }

    fn port(&mut self, node: &Node, path: &str) -> Option<u16> {
        let Value::Integer(n) = node.value else {
            self.expected(node, path, "a port number");
            return None;
        };
        match u16::try_from(n) {
            Ok(port) => Some(port),
            Err(_) => {
                self.report(
                    &node.span,
                    path,
                    format!("{n} is not a port number (0 to 65535; 0 means any free port)"),
                );
                None
            }
        }
    }

    /// A client ID metadata document's URL, which is the client's ID: https (http only on
    /// loopback, for local testing). Whether the document is acceptable is the authorization
    /// server's to say.
    fn metadata_url(&mut self, node: &Node, path: &str) -> Option<Url> {
        let text = self.string(node, path)?;
        let url = self.url(node, path, text)?;
        let loopback = match url.host() {
            Some(url::Host::Domain(domain)) => domain == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        if !(url.scheme() == "https" || (url.scheme() == "http" && loopback)) {
            self.report(
                &node.span,
                path,
                format!(
                    "{} must be an https:// URL (http:// only on localhost)",
                    shown_url(text, &url)
                ),
            );
            return None;
        }
        Some(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_auth_method_is_one_mcp_oauth_knows_by_that_name() {
        for name in AUTH_METHODS {
            let method = auth_method(name).unwrap_or_else(|| panic!("{name} is not parsed"));
            assert_eq!(method.as_str(), *name);
        }
        assert_eq!(auth_method("client_secret_jwt"), None);
    }
}

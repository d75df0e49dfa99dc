//! Finding the authorization server: protected-resource metadata (RFC 9728), then authorization-server
//! metadata (RFC 8414 and OpenID Connect Discovery), with the SSRF guard on every URL.
//!
//! - [`discover_resource`]: from the challenge's `resource_metadata`, else the path-based then the
//!   root well-known URL. The document's `resource` must equal the server's canonical URL or
//!   [`covers`] it: the same origin and a whole-segment path prefix, as deployed clients read
//!   RFC 9728 §3.3.
//! - [`discover_server`]: the candidates in the order the specification gives, the `issuer`
//!   checked; [`ServerMetadata::require_s256`] refuses a server without PKCE S256.
//! - [`discover_legacy`]: the 2025-03-26 fallback, metadata at the MCP server's origin (a differing
//!   issuer accepted and logged), else `/authorize`, `/token` and `/register` there.
//! - [`SsrfGuard`]: https (http only when the MCP server itself is local or private); never
//!   link-local or cloud-metadata hosts; private and loopback addresses only when the MCP server
//!   itself is on one; host names resolved and every address checked.
//!
//! Documents are fetched through `mcp-transport`'s `HttpClient::fetch`: bounded bodies,
//! same-origin redirects only.

use std::net::IpAddr;

use mcp_transport::TransportError;
use mcp_transport::http::HttpClient;
use mcp_transport::www_authenticate::Challenge;
use serde::Deserialize;
use url::Url;

/// The largest metadata document accepted.
const MAX_METADATA_BYTES: usize = 256 * 1024;

/// Why discovery failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// A URL from a server or document is refused by the SSRF guard.
    #[error("refusing to fetch {url}: {reason}")]
    Forbidden {
        /// The refused URL.
        url: String,
        /// Which rule refused it.
        reason: String,
    },
    /// No protected-resource metadata at any candidate URL.
    #[error("no protected-resource metadata found (tried {tried})")]
    NoResourceMetadata {
        /// The URLs tried, in order.
        tried: String,
    },
    /// The metadata's `resource` is not the server we are authorizing for; nothing further is sent.
    #[error(
        "the protected-resource metadata is for {found:?}, not for {expected:?}; refusing to authorize"
    )]
    ResourceMismatch {
        /// The canonical URL of the MCP server.
        expected: String,
        /// What the document says.
        found: String,
    },
    /// No authorization-server metadata at any candidate URL.
    #[error("no authorization-server metadata for {issuer} (tried {tried})")]
    NoServerMetadata {
        /// The issuer.
        issuer: String,
        /// The URLs tried, in order.
        tried: String,
    },
    /// The metadata's `issuer` differs from the issuer it was looked up for (RFC 8414 §3.3).
    #[error("the metadata at {url} names issuer {found:?}, not {expected:?}")]
    IssuerMismatch {
        /// Where the metadata came from.
        url: String,
        /// The issuer it was looked up for.
        expected: String,
        /// The issuer it names.
        found: String,
    },
    /// The document is not valid metadata.
    #[error("invalid metadata at {url}: {reason}")]
    Invalid {
        /// Where it came from.
        url: String,
        /// What was wrong.
        reason: String,
    },
    /// The authorization server does not offer PKCE with S256, which MCP requires.
    #[error(
        "the authorization server {issuer} does not support PKCE with S256 (code_challenge_methods_supported: {offered}); MCP requires it"
    )]
    PkceUnsupported {
        /// The issuer.
        issuer: String,
        /// What it offers.
        offered: String,
    },
    /// Fetching failed.
    #[error("fetching {url}: {error}")]
    Fetch {
        /// The URL.
        url: String,
        /// The transport error.
        error: TransportError,
    },
}

/// Protected-resource metadata (RFC 9728). Unknown members are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ResourceMetadata {
    /// The protected resource's identifier; must equal the MCP server's canonical URL.
    pub resource: String,
    /// The authorization servers (issuers) that protect it.
    #[serde(default)]
    pub authorization_servers: Vec<String>,
    /// Scopes the resource understands.
    #[serde(default)]
    pub scopes_supported: Option<Vec<String>>,
}

/// Authorization-server metadata (RFC 8414 / OpenID Connect Discovery). Unknown members are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ServerMetadata {
    /// The issuer identifier.
    pub issuer: String,
    /// Where the browser is sent.
    pub authorization_endpoint: String,
    /// Where codes and refresh tokens are exchanged.
    pub token_endpoint: String,
    /// Dynamic client registration (RFC 7591), if offered.
    #[serde(default)]
    pub registration_endpoint: Option<String>,
    /// Scopes the server knows.
    #[serde(default)]
    pub scopes_supported: Option<Vec<String>>,
    /// PKCE methods; MCP requires `S256` to be listed.
    #[serde(default)]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// Client authentication methods at the token endpoint.
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// Whether client metadata documents (URL client ids) are accepted.
    #[serde(default)]
    pub client_id_metadata_document_supported: Option<bool>,
    /// Whether the authorization response carries `iss` (RFC 9207).
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: Option<bool>,
    /// The algorithms the server accepts in DPoP proofs (RFC 9449 §5.1); listed at all, the
    /// server can bind tokens to a key.
    #[serde(default)]
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
}

impl ServerMetadata {
    /// Whether the server binds tokens to a key with proofs this client can sign (ES256 listed in
    /// `dpop_signing_alg_values_supported`).
    pub fn supports_dpop(&self) -> bool {
        self.dpop_signing_alg_values_supported
            .as_ref()
            .is_some_and(|algs| algs.iter().any(|alg| alg == crate::dpop::DPOP_ALGORITHM))
    }

    /// Refuses a server whose metadata does not list `S256` (an absent list counts as not listed).
    ///
    /// # Errors
    /// [`DiscoveryError::PkceUnsupported`] naming what the server offers.
    pub fn require_s256(&self) -> Result<(), DiscoveryError> {
        match &self.code_challenge_methods_supported {
            Some(methods) if methods.iter().any(|method| method == "S256") => Ok(()),
            Some(methods) => Err(DiscoveryError::PkceUnsupported {
                issuer: self.issuer.clone(),
                offered: format!("{methods:?}"),
            }),
            None => Err(DiscoveryError::PkceUnsupported {
                issuer: self.issuer.clone(),
                offered: "absent".to_owned(),
            }),
        }
    }
}

/// The canonical form of the MCP server's URL, as `resource` is compared and sent: lowercase scheme
/// and host (the `url` crate does that), no fragment, no trailing `/` on the path.
pub fn canonical_resource(server: &Url) -> String {
    let mut url = server.clone();
    url.set_fragment(None);
    let mut text = url.to_string();
    if url.query().is_none() && text.ends_with('/') {
        text.pop();
    }
    text
}

/// Where protected-resource metadata may be, in the order to try: the path-based well-known URL,
/// then the root one (never the root first).
pub fn resource_metadata_urls(server: &Url) -> Vec<Url> {
    let path = server.path().trim_end_matches('/');
    let mut urls = Vec::new();
    let mut with_path = server.clone();
    with_path.set_query(None);
    with_path.set_fragment(None);
    if !path.is_empty() {
        with_path.set_path(&format!("/.well-known/oauth-protected-resource{path}"));
        urls.push(with_path.clone());
    }
    with_path.set_path("/.well-known/oauth-protected-resource");
    urls.push(with_path);
    urls
}

/// Where authorization-server metadata may be, in the order the MCP specification gives.
pub fn server_metadata_urls(issuer: &Url) -> Vec<Url> {
    let path = issuer.path().trim_end_matches('/');
    let at = |path: &str| {
        let mut url = issuer.clone();
        url.set_query(None);
        url.set_fragment(None);
        url.set_path(path);
        url
    };
    if path.is_empty() {
        vec![
            at("/.well-known/oauth-authorization-server"),
            at("/.well-known/openid-configuration"),
        ]
    } else {
        vec![
            at(&format!("/.well-known/oauth-authorization-server{path}")),
            at(&format!("/.well-known/openid-configuration{path}")),
            at(&format!("{path}/.well-known/openid-configuration")),
        ]
    }
}

/// Which addresses metadata URLs may point at.
///
/// The rule: only `https`, or `http` when the MCP server itself is on a local or private network
/// (development, intranets); never link-local addresses (which include the cloud metadata
/// services at 169.254.169.254 and fd00:ec2::254) or well-known metadata host names; private and
/// loopback addresses only when the MCP server itself is on one (a local or intranet deployment),
/// because an MCP server on the internet has no business sending us to our own network. Host names
/// are resolved and every address is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SsrfGuard {
    allow_private: bool,
}

impl SsrfGuard {
    /// The guard for an MCP server at `server`.
    pub async fn for_server(server: &Url) -> Self {
        let allow_private = match addresses(server).await {
            Ok(addresses) => !addresses.is_empty() && addresses.iter().all(|ip| is_private(*ip)),
            Err(_) => false,
        };
        Self { allow_private }
    }

    /// A guard with the private-address rule set explicitly.
    pub fn new(allow_private: bool) -> Self {
        Self { allow_private }
    }

    /// Checks `url` before it is fetched.
    ///
    /// # Errors
    /// [`DiscoveryError::Forbidden`] naming the rule.
    pub async fn check(&self, url: &Url) -> Result<(), DiscoveryError> {
        let forbid = |reason: &str| DiscoveryError::Forbidden {
            url: url.to_string(),
            reason: reason.to_owned(),
        };
        if !matches!(url.scheme(), "http" | "https") {
            return Err(forbid("only http and https URLs are fetched"));
        }
        if url.scheme() == "http" && !self.allow_private {
            return Err(forbid(
                "plain http is accepted only for an MCP server on a local or private network; \
                 a public one must use https for its authorization URLs",
            ));
        }
        if let Some(url::Host::Domain(host)) = url.host() {
            let host = host.trim_end_matches('.').to_ascii_lowercase();
            if host == "metadata.google.internal" || host == "metadata" {
                return Err(forbid("a cloud metadata service"));
            }
        }
        let resolved = addresses(url).await.map_err(|reason| forbid(&reason))?;
        for ip in resolved {
            if is_link_local(ip) {
                return Err(forbid(
                    "a link-local address (cloud metadata services live there)",
                ));
            }
            if is_private(ip) && !self.allow_private {
                return Err(forbid(
                    "a private or loopback address, while the MCP server is public",
                ));
            }
        }
        Ok(())
    }
}

async fn addresses(url: &Url) -> Result<Vec<IpAddr>, String> {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => Ok(vec![IpAddr::V4(ip)]),
        Some(url::Host::Ipv6(ip)) => Ok(vec![IpAddr::V6(ip)]),
        Some(url::Host::Domain(name)) => {
            let port = url.port_or_known_default().unwrap_or(443);
            tokio::net::lookup_host((name, port))
                .await
                .map(|found| found.map(|address| address.ip()).collect())
                .map_err(|error| format!("cannot resolve {name}: {error}"))
        }
        None => Err("the URL has no host".to_owned()),
    }
}

/// The IPv6 address of EC2's instance metadata service.
const AWS_METADATA_V6: std::net::Ipv6Addr =
    std::net::Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254);

fn is_link_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => ip.is_link_local(),
        IpAddr::V6(ip) => {
            (ip.segments()[0] & 0xffc0) == 0xfe80
                || ip == AWS_METADATA_V6
                || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_link_local())
        }
    }
}

fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => ip.is_private() || ip.is_loopback() || ip.is_unspecified(),
        IpAddr::V6(ip) => {
            ip.is_loopback()
                || ip.is_unspecified()
                || (ip.segments()[0] & 0xfe00) == 0xfc00
                || ip
                    .to_ipv4_mapped()
                    .is_some_and(|v4| v4.is_private() || v4.is_loopback())
        }
    }
}

/// Fetches one metadata document: `Ok(None)` when it is not there (any 4xx), the parsed document on
/// 200 JSON, an error otherwise.
async fn fetch_json<T: for<'de> Deserialize<'de>>(
    http: &HttpClient,
    guard: &SsrfGuard,
    url: &Url,
) -> Result<Option<T>, DiscoveryError> {
    guard.check(url).await?;
    let request = http::Request::get(url.as_str())
        .header(http::header::ACCEPT, "application/json")
        .body(Vec::new())
        .map_err(|error| DiscoveryError::Invalid {
            url: url.to_string(),
            reason: error.to_string(),
        })?;
    let response = http
        .fetch(request, MAX_METADATA_BYTES)
        .await
        .map_err(|error| DiscoveryError::Fetch {
            url: url.to_string(),
            error,
        })?;
    if response.status().is_client_error() {
        return Ok(None);
    }
    if !response.status().is_success() {
        return Err(DiscoveryError::Fetch {
            url: url.to_string(),
            error: TransportError::HttpStatus {
                status: response.status().as_u16(),
                retry_after: None,
                body_excerpt: String::new(),
            },
        });
    }
    serde_json::from_slice(response.body())
        .map(Some)
        .map_err(|error| DiscoveryError::Invalid {
            url: url.to_string(),
            reason: error.to_string(),
        })
}

/// Protected-resource metadata for the MCP server at `server`: from the challenge's
/// `resource_metadata` if given, else the path-based then the root well-known URL. Its `resource`
/// must equal the server's canonical URL.
///
/// # Errors
/// See [`DiscoveryError`]: forbidden URLs, nothing found, a `resource` for another server.
pub async fn discover_resource(
    http: &HttpClient,
    guard: &SsrfGuard,
    server: &Url,
    challenge: Option<&Challenge>,
) -> Result<ResourceMetadata, DiscoveryError> {
    let candidates = match challenge.and_then(Challenge::resource_metadata) {
        Some(pointer) => vec![
            Url::parse(pointer).map_err(|error| DiscoveryError::Invalid {
                url: pointer.to_owned(),
                reason: error.to_string(),
            })?,
        ],
        None => resource_metadata_urls(server),
    };
    let expected = canonical_resource(server);
    for url in &candidates {
        if let Some(metadata) = fetch_json::<ResourceMetadata>(http, guard, url).await? {
            let found = Url::parse(&metadata.resource)
                .map(|resource| canonical_resource(&resource))
                .unwrap_or_else(|_| metadata.resource.clone());
            if found != expected {
                if !covers(&found, server) {
                    return Err(DiscoveryError::ResourceMismatch {
                        expected,
                        found: metadata.resource,
                    });
                }
                tracing::info!(
                    resource = %found,
                    server = %expected,
                    "the protected resource is a less specific URL of the same origin; using it"
                );
            }
            return Ok(metadata);
        }
    }
    Err(DiscoveryError::NoResourceMetadata {
        tried: join(&candidates),
    })
}

/// Whether the resource identifier `resource` covers the MCP server at `server`: the same origin,
/// and a path that is the server's path or a whole-segment prefix of it (`https://a.com` and
/// `https://a.com/api` cover `https://a.com/api/mcp`; `https://a.com/ap` and `https://b.com` do
/// not). This is how deployed clients read RFC 9728 §3.3 when the metadata came from the root
/// well-known URL, whose identifier is the origin; a different origin is always refused.
pub fn covers(resource: &str, server: &Url) -> bool {
    let Ok(resource) = Url::parse(resource) else {
        return false;
    };
    if resource.origin() != server.origin() || resource.query().is_some() {
        return false;
    }
    let prefix = resource.path().trim_end_matches('/');
    let path = server.path().trim_end_matches('/');
    prefix.is_empty()
        || path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Authorization-server metadata for `issuer`, trying the candidates in order; `issuer` must match.
///
/// # Errors
/// See [`DiscoveryError`].
pub async fn discover_server(
    http: &HttpClient,
    guard: &SsrfGuard,
    issuer: &Url,
) -> Result<ServerMetadata, DiscoveryError> {
    let candidates = server_metadata_urls(issuer);
    let expected = issuer.as_str().trim_end_matches('/').to_owned();
    for url in &candidates {
        if let Some(metadata) = fetch_json::<ServerMetadata>(http, guard, url).await? {
            if metadata.issuer.trim_end_matches('/') != expected {
                return Err(DiscoveryError::IssuerMismatch {
                    url: url.to_string(),
                    expected,
                    found: metadata.issuer,
                });
            }
            return Ok(metadata);
        }
    }
    Err(DiscoveryError::NoServerMetadata {
        issuer: issuer.to_string(),
        tried: join(&candidates),
    })
}

/// The 2025-03-26 fallback, for an MCP server without protected-resource metadata: the
/// authorization server is the MCP server's origin. Its metadata is read from the origin's well-known
/// URLs; when there is none, the specification's default endpoints (`/authorize`, `/token`,
/// `/register` at the origin) are used, with PKCE S256 (which that revision made mandatory).
///
/// The one documented exception to the issuer match: the metadata here was found from the MCP
/// server's origin, not from an issuer identifier someone gave us, so a different `issuer` is
/// accepted (and logged). Deployments of that era commonly serve an issuer with a path or another
/// host name.
///
/// # Errors
/// [`DiscoveryError::Forbidden`] by the guard; a failed fetch; invalid metadata.
pub async fn discover_legacy(
    http: &HttpClient,
    guard: &SsrfGuard,
    server: &Url,
) -> Result<ServerMetadata, DiscoveryError> {
    let mut origin = server.clone();
    origin.set_path("/");
    origin.set_query(None);
    origin.set_fragment(None);
    for url in server_metadata_urls(&origin) {
        if let Some(metadata) = fetch_json::<ServerMetadata>(http, guard, &url).await? {
            let expected = origin.as_str().trim_end_matches('/');
            if metadata.issuer.trim_end_matches('/') != expected {
                tracing::info!(
                    url = %url,
                    issuer = %metadata.issuer,
                    "2025-03-26 fallback: accepting authorization-server metadata for another issuer"
                );
            }
            return Ok(metadata);
        }
    }
    let base = origin.as_str().trim_end_matches('/');
    tracing::info!(origin = %base, "no authorization-server metadata; using the default endpoints");
    Ok(ServerMetadata {
        issuer: base.to_owned(),
        authorization_endpoint: format!("{base}/authorize"),
        token_endpoint: format!("{base}/token"),
        registration_endpoint: Some(format!("{base}/register")),
        scopes_supported: None,
        code_challenge_methods_supported: Some(vec!["S256".to_owned()]),
        token_endpoint_auth_methods_supported: None,
        client_id_metadata_document_supported: None,
        authorization_response_iss_parameter_supported: None,
        dpop_signing_alg_values_supported: None,
    })
}

fn join(urls: &[Url]) -> String {
    urls.iter().map(Url::as_str).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn a_resource_covers_its_own_url_and_whole_segment_prefixes_of_the_same_origin() {
        let server = url("https://a.com/api/mcp");
        assert!(covers("https://a.com/api/mcp", &server));
        assert!(covers("https://a.com/api", &server));
        assert!(covers("https://a.com", &server));
        assert!(covers("https://a.com/", &server));
        assert!(!covers("https://a.com/ap", &server));
        assert!(!covers("https://a.com/elsewhere/mcp", &server));
        assert!(!covers("https://a.com/api/mcp/deeper", &server));
        assert!(!covers("https://b.com/api/mcp", &server));
        assert!(!covers("http://a.com/api/mcp", &server));
        assert!(!covers("https://a.com:8443/api/mcp", &server));
        assert!(!covers("not a url", &server));
    }

    #[test]
    fn resource_metadata_is_tried_path_first_then_root() {
        let urls: Vec<String> = resource_metadata_urls(&url("https://ex.com/public/mcp/"))
            .iter()
            .map(Url::to_string)
            .collect();
        assert_eq!(
            urls,
            [
                "https://ex.com/.well-known/oauth-protected-resource/public/mcp",
                "https://ex.com/.well-known/oauth-protected-resource"
            ]
        );
        assert_eq!(resource_metadata_urls(&url("https://ex.com/")).len(), 1);
    }

    #[test]
    fn server_metadata_order_follows_the_specification() {
        let with_path: Vec<String> = server_metadata_urls(&url("https://a.com/t1"))
            .iter()
            .map(Url::to_string)
            .collect();
        assert_eq!(
            with_path,
            [
                "https://a.com/.well-known/oauth-authorization-server/t1",
                "https://a.com/.well-known/openid-configuration/t1",
                "https://a.com/t1/.well-known/openid-configuration"
            ]
        );
        let root: Vec<String> = server_metadata_urls(&url("https://a.com"))
            .iter()
            .map(Url::to_string)
            .collect();
        assert_eq!(
            root,
            [
                "https://a.com/.well-known/oauth-authorization-server",
                "https://a.com/.well-known/openid-configuration"
            ]
        );
    }

    #[test]
    fn canonical_resource_lowercases_and_drops_fragment_and_trailing_slash() {
        assert_eq!(
            canonical_resource(&url("HTTPS://Ex.COM/mcp/#x")),
            "https://ex.com/mcp"
        );
        assert_eq!(
            canonical_resource(&url("https://ex.com/")),
            "https://ex.com"
        );
    }

    #[test]
    fn s256_is_required() {
        let mut metadata: ServerMetadata = serde_json::from_value(serde_json::json!({
            "issuer": "https://a.com", "authorization_endpoint": "https://a.com/a",
            "token_endpoint": "https://a.com/t"
        }))
        .unwrap();
        assert!(matches!(
            metadata.require_s256(),
            Err(DiscoveryError::PkceUnsupported { .. })
        ));
        metadata.code_challenge_methods_supported = Some(vec!["plain".into()]);
        let error = metadata.require_s256().unwrap_err();
        assert!(
            error
                .to_string()
                .contains("does not support PKCE with S256"),
            "{error}"
        );
        metadata.code_challenge_methods_supported = Some(vec!["plain".into(), "S256".into()]);
        metadata
            .require_s256()
            .expect("S256 among others is enough");
    }

    #[tokio::test]
    async fn the_guard_refuses_other_schemes_link_local_and_metadata_hosts() {
        let open = SsrfGuard::new(true);
        for refused in [
            "file:///etc/passwd",
            "http://169.254.169.254/latest/meta-data",
            "http://[fe80::1]/x",
            "http://metadata.google.internal/computeMetadata",
        ] {
            assert!(open.check(&url(refused)).await.is_err(), "{refused}");
        }
        open.check(&url("http://127.0.0.1:8080/x"))
            .await
            .expect("loopback is allowed when private addresses are");
    }

    #[tokio::test]
    async fn private_addresses_only_for_a_private_server() {
        let public = SsrfGuard::new(false);
        for refused in [
            "https://127.0.0.1/x",
            "https://10.0.0.1/x",
            "https://192.168.1.1/x",
            "https://[::1]/x",
        ] {
            let error = public.check(&url(refused)).await.unwrap_err();
            assert!(error.to_string().contains("private or loopback"), "{error}");
        }
        let local = SsrfGuard::for_server(&url("http://127.0.0.1:9000/mcp")).await;
        local
            .check(&url("http://127.0.0.1:9001/x"))
            .await
            .expect("loopback is allowed for a loopback server");
    }

    #[tokio::test]
    async fn plain_http_only_for_a_private_server() {
        let public = SsrfGuard::new(false);
        let error = public
            .check(&url("http://93.184.215.14/token"))
            .await
            .unwrap_err();
        assert!(error.to_string().contains("must use https"), "{error}");
        assert!(
            SsrfGuard::new(true)
                .check(&url("http://127.0.0.1:9/token"))
                .await
                .is_ok()
        );
    }
}

//! HTTP plumbing shared by the endpoints: bounded bodies, parameters, redirect URIs, and the
//! responses (JSON, RFC 6749 errors, redirects).

use std::net::{Ipv4Addr, Ipv6Addr};

use http::{
    HeaderMap, HeaderValue, Response, StatusCode,
    header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, PRAGMA, WWW_AUTHENTICATE},
};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use url::{Host, Url};

// The generic pieces live with the serve loop, as the legacy SSE endpoint uses them too.
use crate::http::DemoBody;
pub(super) use crate::http::{BodyError, method_not_allowed, read_body, text};

/// The most a token or registration request body may hold.
pub(super) const MAX_FORM_BODY: usize = 64 * 1024;

/// The most an MCP POST body may hold when the step-up check has to read it.
pub(super) const MAX_MCP_BODY: usize = 1024 * 1024;

/// Request parameters (a query or a form body), in order, repeats included.
pub(super) type Params = Vec<(String, String)>;

/// Parses `application/x-www-form-urlencoded` (a query string or a form body).
pub(super) fn parse_params(input: &[u8]) -> Params {
    url::form_urlencoded::parse(input).into_owned().collect()
}

/// The first parameter that appears more than once: RFC 6749 §3.1 forbids repeats.
pub(super) fn repeated(params: &Params) -> Option<&str> {
    params.iter().enumerate().find_map(|(index, (name, _))| {
        params[..index]
            .iter()
            .any(|(earlier, _)| earlier == name)
            .then_some(name.as_str())
    })
}

/// The value of parameter `name`; an empty value counts as absent (RFC 6749 §3.1).
pub(super) fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(key, value)| key == name && !value.is_empty())
        .map(|(_, value)| value.as_str())
}

/// Whether the request's media type (before any `;` parameters) is `expected`.
pub(super) fn has_content_type(headers: &HeaderMap, expected: &str) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case(expected))
}

/// Checks a redirect URI the way RFC 8252 wants native clients' to be: `http` to the loopback IP
/// literal `127.0.0.1` or `[::1]`, any port, no fragment, no user information. `localhost` is
/// refused, as §8.3 advises.
pub(super) fn loopback_redirect(uri: &str) -> Result<Url, String> {
    let url = Url::parse(uri).map_err(|error| format!("redirect_uri is not a URL: {error}"))?;
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => ip == Ipv4Addr::LOCALHOST,
        Some(Host::Ipv6(ip)) => ip == Ipv6Addr::LOCALHOST,
        _ => false,
    };
    if url.scheme() != "http" || !loopback {
        return Err(
            "redirect_uri must be http://127.0.0.1:PORT/… or http://[::1]:PORT/… (RFC 8252 §7.3)"
                .to_owned(),
        );
    }
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err("redirect_uri must have no fragment and no user information".to_owned());
    }
    Ok(url)
}

/// Whether two loopback redirect URIs are the same but for the port, which RFC 8252 §7.3 lets a
/// native client choose at the time of each request.
pub(super) fn same_but_port(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host() == b.host()
        && a.path() == b.path()
        && a.query() == b.query()
}

/// Whether `client_id` is a client ID metadata document URL: https with a path, and no fragment,
/// user information or dot segments.
pub(super) fn is_cimd_url(client_id: &str) -> bool {
    let Ok(url) = Url::parse(client_id) else {
        return false;
    };
    // `Url` removes dot segments, so compare with the raw text for them.
    url.scheme() == "https"
        && url.host().is_some()
        && url.path() != "/"
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none()
        && !client_id
            .split(['/', '?'])
            .any(|segment| segment == "." || segment == "..")
}

/// An RFC 6749 §5.2 error: `{"error": …, "error_description": …}` with its status.
#[derive(Debug, Clone)]
pub(super) struct OAuthError {
    pub(super) status: StatusCode,
    pub(super) error: &'static str,
    pub(super) description: String,
    /// Whether to answer with `WWW-Authenticate: Basic` (a failed HTTP Basic client
    /// authentication, RFC 6749 §5.2).
    basic_challenge: bool,
}

impl OAuthError {
    /// A 400 error.
    pub(super) fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error,
            description: description.into(),
            basic_challenge: false,
        }
    }

    /// A 401 `invalid_client`; with `basic`, a `Basic` challenge too.
    pub(super) fn invalid_client(description: impl Into<String>, basic: bool) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description: description.into(),
            basic_challenge: basic,
        }
    }

    /// A 500 `server_error` (the OS random source failed).
    pub(super) fn server_error(description: impl Into<String>) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            error: "server_error",
            description: description.into(),
            basic_challenge: false,
        }
    }

    /// The same error with another status.
    pub(super) fn with_status(self, status: StatusCode) -> Self {
        Self { status, ..self }
    }

    /// For a body that could not be read.
    pub(super) fn body(error: BodyError) -> Self {
        match error {
            BodyError::TooLarge => Self::new("invalid_request", "the request body is too large")
                .with_status(StatusCode::PAYLOAD_TOO_LARGE),
            BodyError::Broken => Self::new("invalid_request", "the request body broke off"),
        }
    }

    pub(super) fn into_response(self) -> Response<DemoBody> {
        let body = serde_json::json!({
            "error": self.error,
            "error_description": self.description,
        });
        let mut response = json(self.status, &body);
        if self.basic_challenge {
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"mcpcord-demo\""),
            );
        }
        no_store(response)
    }
}

/// A JSON response.
pub(super) fn json(status: StatusCode, value: &serde_json::Value) -> Response<DemoBody> {
    let mut response = Response::new(Full::new(Bytes::from(value.to_string())).boxed());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// Marks a response that carries credentials (or answers a request that did) as not cacheable.
pub(super) fn no_store(mut response: Response<DemoBody>) -> Response<DemoBody> {
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// A 302 to `location`, not cacheable, as the authorization response is.
pub(super) fn found(location: &Url) -> Response<DemoBody> {
    match HeaderValue::from_str(location.as_str()) {
        Ok(location) => {
            let mut response = no_store(text(StatusCode::FOUND, ""));
            response.headers_mut().insert(LOCATION, location);
            response
        }
        // A serialized `Url` is always a valid header value; this is never reached.
        Err(_) => OAuthError::server_error("the redirect URI cannot be sent").into_response(),
    }
}

/// A random opaque value: `bytes` bytes from the operating system's random source, base64url.
pub(super) fn random_value(bytes: usize) -> Result<String, OAuthError> {
    use base64::Engine as _;
    use rand::TryRng as _;

    let mut buffer = vec![0u8; bytes];
    rand::rngs::SysRng
        .try_fill_bytes(&mut buffer)
        .map_err(|error| {
            OAuthError::server_error(format!("the OS random source failed: {error}"))
        })?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buffer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_parameters_are_found() {
        let params = parse_params(b"a=1&b=2&a=3");
        assert_eq!(repeated(&params), Some("a"));
        assert_eq!(repeated(&parse_params(b"a=1&b=2")), None);
    }

    #[test]
    fn only_loopback_ip_literals_are_redirect_uris() {
        for good in [
            "http://127.0.0.1:1234/callback",
            "http://[::1]:80/cb?x=1",
            "http://127.0.0.1/cb",
        ] {
            if let Err(error) = loopback_redirect(good) {
                panic!("{good} is refused: {error}");
            }
        }
        for bad in [
            "https://127.0.0.1:1234/cb",
            "http://localhost:1234/cb",
            "http://127.0.0.2:1234/cb",
            "http://example.com/cb",
            "http://127.0.0.1:1234/cb#frag",
            "http://user@127.0.0.1:1234/cb",
            "javascript:alert(1)",
            "not a url",
        ] {
            assert!(loopback_redirect(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn redirect_uris_match_whatever_the_port() {
        let a = loopback_redirect("http://127.0.0.1:1111/cb").expect("loopback");
        let b = loopback_redirect("http://127.0.0.1:2222/cb").expect("loopback");
        let c = loopback_redirect("http://127.0.0.1:2222/other").expect("loopback");
        assert!(same_but_port(&a, &b));
        assert!(!same_but_port(&a, &c));
    }

    #[test]
    fn client_id_metadata_document_urls_are_https_with_a_path() {
        assert!(is_cimd_url("https://client.example/oauth/metadata.json"));
        for bad in [
            "https://client.example",
            "https://client.example/",
            "http://client.example/metadata.json",
            "https://client.example/a/../metadata.json",
            "https://client.example/metadata.json#x",
            "https://user@client.example/metadata.json",
            "demo-client",
        ] {
            assert!(!is_cimd_url(bad), "{bad}");
        }
    }
}

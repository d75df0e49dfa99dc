//! Workload identity federation (SEP-1933): a workload (a CI job, a pod, a cloud function) proves
//! who it is with a JWT its platform issued, and the authorization server trades that JWT for an
//! access token through the JWT bearer grant (RFC 7523 §2.1): `grant_type` =
//! `urn:ietf:params:oauth:grant-type:jwt-bearer` and `assertion` = the JWT. No browser, no secret
//! to keep.
//!
//! Where the JWT comes from is a [`WorkloadIdentity`]: a file the platform keeps fresh
//! (Kubernetes' projected service-account tokens, `AZURE_FEDERATED_TOKEN_FILE`, ...), an
//! environment variable, or the token itself for a program that fetches it. A file or variable is
//! read anew for every token request, since such tokens live minutes and are rotated underneath
//! the process.
//!
//! A refusal (`invalid_grant` for an expired or wrongly addressed JWT, `invalid_scope`,
//! `unauthorized_client`) is returned as it is: the same assertion would be refused again, and no
//! other grant is tried in its place.
//!
//! ```no_run
//! # async fn demo(
//! #     http: &mcp_transport::http::HttpClient,
//! #     server: &mcp_oauth::ServerMetadata,
//! # ) -> Result<(), Box<dyn std::error::Error>> {
//! use mcp_oauth::workload::jwt_bearer;
//! use mcp_oauth::{ClientCredentials, WorkloadIdentity};
//!
//! let identity = WorkloadIdentity::from_file("/var/run/secrets/tokens/mcp");
//! let client = ClientCredentials::public("reporting-job");
//! let tokens = jwt_bearer(http, server, &client, &identity, "https://mcp.example/mcp", &[], None)
//!     .await?;
//! # let _ = tokens;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::io::Read as _;
use std::path::PathBuf;

use mcp_transport::http::HttpClient;

use crate::discovery::ServerMetadata;
use crate::dpop::DpopProver;
use crate::flow::{ClientCredentials, FlowError};
use crate::store::StoredTokens;
use crate::token_form::{ClientAuth, post_form};

/// The JWT bearer grant's `grant_type` (RFC 7523 §2.1).
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The longest identity token accepted, in bytes; a file larger than this is not a token.
const MAX_ASSERTION: u64 = 64 * 1024;

/// Where a workload's identity token (a JWT from its platform) is read from.
///
/// `Debug` never shows a token.
#[derive(Clone, PartialEq, Eq)]
pub struct WorkloadIdentity {
    source: Source,
}

#[derive(Clone, PartialEq, Eq)]
enum Source {
    File(PathBuf),
    Env(String),
    Token(String),
}

impl WorkloadIdentity {
    /// The token is in the file at `path`, read for every token request.
    pub fn from_file(path: impl Into<PathBuf>) -> Self {
        Self {
            source: Source::File(path.into()),
        }
    }

    /// The token is in the environment variable `name`, read for every token request.
    pub fn from_env(name: impl Into<String>) -> Self {
        Self {
            source: Source::Env(name.into()),
        }
    }

    /// The token itself, for a program that obtains it on its own.
    pub fn from_token(token: impl Into<String>) -> Self {
        Self {
            source: Source::Token(token.into()),
        }
    }

    /// Where the token comes from, for messages: a path, `$NAME`, or `the configured token`.
    pub fn origin(&self) -> String {
        match &self.source {
            Source::File(path) => path.display().to_string(),
            Source::Env(name) => format!("${name}"),
            Source::Token(_) => "the configured token".to_owned(),
        }
    }

    /// The token now: read from its file or variable, surrounding whitespace removed.
    ///
    /// # Errors
    /// [`FlowError::AssertionUnavailable`] when it cannot be read, is empty, too long or not
    /// visible ASCII (a JWT is).
    pub async fn assertion(&self) -> Result<String, FlowError> {
        let unavailable = |reason: String| FlowError::AssertionUnavailable {
            from: self.origin(),
            reason,
        };
        let text = match &self.source {
            Source::Token(token) => token.clone(),
            Source::Env(name) => std::env::var(name)
                .map_err(|_| unavailable("the variable is not set (or not Unicode)".to_owned()))?,
            Source::File(path) => {
                let path = path.clone();
                tokio::task::spawn_blocking(move || read_bounded(&path))
                    .await
                    .map_err(|_| unavailable("the read was interrupted".to_owned()))?
                    .map_err(unavailable)?
            }
        };
        let token = text.trim();
        if token.is_empty() {
            return Err(unavailable("it is empty".to_owned()));
        }
        if token.len() as u64 > MAX_ASSERTION {
            return Err(unavailable(format!(
                "it is longer than {MAX_ASSERTION} bytes"
            )));
        }
        if !token.bytes().all(|byte| (0x21..=0x7e).contains(&byte)) {
            return Err(unavailable(
                "it is not a JWT (it has characters other than visible ASCII)".to_owned(),
            ));
        }
        Ok(token.to_owned())
    }
}

/// A file's text, at most [`MAX_ASSERTION`] bytes (a longer file is refused, not cut).
fn read_bounded(path: &std::path::Path) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|error| error.to_string())?;
    let mut bytes = Vec::new();
    file.take(MAX_ASSERTION + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| error.to_string())?;
    if bytes.len() as u64 > MAX_ASSERTION {
        return Err(format!("the file is longer than {MAX_ASSERTION} bytes"));
    }
    String::from_utf8(bytes).map_err(|_| "the file is not UTF-8 text".to_owned())
}

impl fmt::Debug for WorkloadIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkloadIdentity")
            .field("from", &self.origin())
            .finish()
    }
}

/// Tokens for `resource` (RFC 8707; empty for none) with `scopes`, in exchange for the workload's
/// identity token: the JWT bearer grant, the client authenticating as `credentials` say (a public
/// client sends its `client_id`), with a DPoP proof from `dpop` when given.
///
/// # Errors
/// [`FlowError::AssertionUnavailable`] before anything is sent; [`FlowError::MissingCredential`]
/// and [`FlowError::ClientAssertion`] likewise; [`FlowError::TokenRejected`] when the server
/// refuses ([`FlowError::is_invalid_grant`] for an expired or wrongly addressed token);
/// [`FlowError::Token`] when the request fails.
pub async fn jwt_bearer(
    http: &HttpClient,
    server: &ServerMetadata,
    credentials: &ClientCredentials,
    identity: &WorkloadIdentity,
    resource: &str,
    scopes: &[String],
    dpop: Option<&DpopProver>,
) -> Result<StoredTokens, FlowError> {
    let assertion = identity.assertion().await?;
    let auth = ClientAuth::for_client(credentials, server)?;
    let scope = scopes.join(" ");
    let mut form = vec![("grant_type", JWT_BEARER_GRANT), ("assertion", &assertion)];
    if !scope.is_empty() {
        form.push(("scope", &scope));
    }
    if !resource.is_empty() {
        form.push(("resource", resource));
    }
    form.extend(
        auth.params
            .iter()
            .map(|(name, value)| (*name, value.as_str())),
    );
    let mut secrets = vec![assertion.as_str()];
    secrets.extend(auth.secrets.iter().map(String::as_str));
    let basic = auth
        .basic
        .as_ref()
        .map(|(id, secret)| (id.as_str(), secret.as_str()));
    let response = post_form(http, &server.token_endpoint, &form, basic, &secrets, dpop).await?;
    response.into_stored(server, resource, scopes, dpop.map(DpopProver::key))
}

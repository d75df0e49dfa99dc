//! Parsing the `WWW-Authenticate` response header into its challenges.
//!
//! A 401 or 403 from an MCP server says how to authorize in this header: usually a `Bearer` challenge
//! (RFC 6750) whose `resource_metadata` parameter (RFC 9728) points at the protected-resource metadata,
//! and whose `error` and `scope` parameters say what went wrong and what to ask for. This module turns
//! the header into [`Challenge`] values following the grammar of RFC 9110 §11.2 and §11.6.1:
//!
//! ```text
//! WWW-Authenticate = #challenge
//! challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//! auth-param       = token BWS "=" BWS ( token / quoted-string )
//! ```
//!
//! Challenges and their parameters share one comma-separated list, so an element that starts with
//! `name=` continues the challenge before it, and an element that starts with a bare token opens a new
//! one. Empty list elements and optional whitespace are tolerated as RFC 9110 §5.6.1 requires.
//!
//! The parser works on untrusted input: it never panics, runs in time linear in the input, and its
//! errors give a byte offset and a reason but never quote the header, which may carry credentials.
//!
//! It does not fetch or validate what a challenge points at (URLs in `resource_metadata`, scope
//! syntax); that is the caller's job.
//!
//! # Example
//! ```
//! use mcp_transport::www_authenticate::{find_bearer, parse_challenges};
//!
//! let header = r#"Basic realm="a", Bearer error="invalid_token", scope="read write", resource_metadata="https://x/.well-known/oauth-protected-resource""#;
//! let challenges = parse_challenges(header)?;
//! let bearer = find_bearer(&challenges).ok_or("no Bearer challenge")?;
//! assert_eq!(bearer.error(), Some("invalid_token"));
//! assert_eq!(bearer.scopes().collect::<Vec<_>>(), ["read", "write"]);
//! assert_eq!(
//!     bearer.resource_metadata(),
//!     Some("https://x/.well-known/oauth-protected-resource")
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt::{self, Write as _};

/// One authentication challenge from a `WWW-Authenticate` header: a scheme, then either a token68 or
/// a list of parameters (possibly empty).
///
/// Values come only from parsing ([`parse_challenges`], [`parse_challenge_values`]), so the scheme
/// and parameter names are always valid tokens and parameter values never hold control characters.
/// Names keep the case they were sent in; lookups ignore case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    scheme: String,
    body: Body,
}

/// What follows the scheme. A challenge with nothing after its scheme is `Params` with no entries,
/// so a token68 and parameters can never both be present.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Body {
    Token68(String),
    /// Names as sent, values unescaped, in header order (duplicates kept).
    Params(Vec<(String, String)>),
}

impl Challenge {
    /// The auth scheme as sent, e.g. `"Bearer"` or `"bearer"`.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// Whether the scheme is `name`, ignoring ASCII case as RFC 9110 §11.1 requires.
    pub fn is_scheme(&self, name: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(name)
    }

    /// The token68 that follows the scheme (e.g. `dXNlcjpwYXNz==`), if the challenge carries one
    /// instead of parameters.
    pub fn token68(&self) -> Option<&str> {
        match &self.body {
            Body::Token68(token) => Some(token),
            Body::Params(_) => None,
        }
    }

    /// The value of the first parameter called `name` (ignoring ASCII case), with quoted-string
    /// escapes removed.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params()
            .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    }

    /// All parameters as `(name, value)` in header order: names as sent, values unescaped, duplicates
    /// kept. Empty for a token68 challenge.
    pub fn params(&self) -> impl Iterator<Item = (&str, &str)> {
        let params: &[(String, String)] = match &self.body {
            Body::Token68(_) => &[],
            Body::Params(params) => params,
        };
        params
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// The `realm` parameter (RFC 9110 §11.5).
    pub fn realm(&self) -> Option<&str> {
        self.param("realm")
    }

    /// The `error` parameter, e.g. `invalid_token` or `insufficient_scope` (RFC 6750 §3.1).
    pub fn error(&self) -> Option<&str> {
        self.param("error")
    }

    /// The `error_description` parameter: human-readable text for developers (RFC 6750 §3).
    pub fn error_description(&self) -> Option<&str> {
        self.param("error_description")
    }

    /// The `scope` parameter as sent: space-separated scope tokens (RFC 6750 §3). See
    /// [`scopes`](Self::scopes) for the tokens one by one.
    pub fn scope(&self) -> Option<&str> {
        self.param("scope")
    }

    /// The scope tokens of the `scope` parameter, split on spaces with empty pieces skipped; empty
    /// when there is no `scope`.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope()
            .into_iter()
            .flat_map(|scope| scope.split(' ').filter(|token| !token.is_empty()))
    }

    /// The `resource_metadata` parameter: the URL of the protected resource's metadata (RFC 9728
    /// §5.1), which MCP clients fetch to find the authorization server.
    pub fn resource_metadata(&self) -> Option<&str> {
        self.param("resource_metadata")
    }
}

/// Writes the canonical form: the scheme, then the token68 or the parameters with every value as a
/// quoted-string (`"` and `\` escaped). Parsing the output gives back an equal [`Challenge`], and
/// challenges displayed and joined with `", "` parse back to the same list.
impl fmt::Display for Challenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.scheme)?;
        match &self.body {
            Body::Token68(token) => write!(f, " {token}"),
            Body::Params(params) => {
                for (index, (name, value)) in params.iter().enumerate() {
                    let separator = if index == 0 { " " } else { ", " };
                    write!(f, "{separator}{name}=\"")?;
                    for c in value.chars() {
                        if c == '"' || c == '\\' {
                            f.write_char('\\')?;
                        }
                        f.write_char(c)?;
                    }
                    f.write_str("\"")?;
                }
                Ok(())
            }
        }
    }
}

/// A `WWW-Authenticate` header that does not follow the challenge grammar.
///
/// It says where (a byte offset) and why, but never quotes the header, which may carry secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed WWW-Authenticate header at byte {offset}: {reason}")]
pub struct ChallengeParseError {
    offset: usize,
    reason: &'static str,
}

impl ChallengeParseError {
    /// The byte offset in the header value where parsing failed. For [`parse_challenge_values`] it
    /// is an offset into the values joined with `", "`.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// What was wrong, e.g. `"unterminated quoted string"` or `"no challenge"`.
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

/// Parses one `WWW-Authenticate` header value into its challenges, in header order.
///
/// An empty or whitespace-only value (or one of empty list elements only) is an error: a
/// `WWW-Authenticate` header must hold at least one challenge.
///
/// # Example
/// ```
/// use mcp_transport::www_authenticate::parse_challenges;
///
/// let challenges = parse_challenges(r#"Basic dXNlcjpwYXNz==, Bearer realm="mcp", error="invalid_token""#)?;
/// assert_eq!(challenges.len(), 2);
/// assert_eq!(challenges[0].token68(), Some("dXNlcjpwYXNz=="));
/// assert!(challenges[1].is_scheme("bearer"));
/// assert_eq!(challenges[1].realm(), Some("mcp"));
///
/// let err = parse_challenges(r#"Bearer realm="mcp"#).unwrap_err();
/// assert_eq!(err.to_string(), "malformed WWW-Authenticate header at byte 13: unterminated quoted string");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse_challenges(header: &str) -> Result<Vec<Challenge>, ChallengeParseError> {
    Parser::new(header).challenges()
}

/// Parses several `WWW-Authenticate` header values (one per field line) as one list of challenges.
///
/// This is the same as parsing the values joined with commas (RFC 9110 §5.3), so a parameter in one
/// value may continue a challenge begun in the previous one. Error offsets refer to the values joined
/// with `", "`.
///
/// # Example
/// ```
/// use mcp_transport::www_authenticate::parse_challenge_values;
///
/// let challenges = parse_challenge_values([r#"Basic realm="a""#, r#"Bearer scope="read""#])?;
/// let schemes: Vec<&str> = challenges.iter().map(|c| c.scheme()).collect();
/// assert_eq!(schemes, ["Basic", "Bearer"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse_challenge_values<'a>(
    values: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<Challenge>, ChallengeParseError> {
    let joined = values.into_iter().collect::<Vec<_>>().join(", ");
    parse_challenges(&joined)
}

/// The first `Bearer` challenge (scheme compared ignoring case), the one an OAuth client acts on.
///
/// # Example
/// ```
/// use mcp_transport::www_authenticate::{find_bearer, parse_challenges};
///
/// let challenges = parse_challenges(r#"Basic realm="a", bearer resource_metadata="https://x/meta""#)?;
/// let bearer = find_bearer(&challenges).ok_or("no Bearer challenge")?;
/// assert_eq!(bearer.resource_metadata(), Some("https://x/meta"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn find_bearer(challenges: &[Challenge]) -> Option<&Challenge> {
    challenges
        .iter()
        .find(|challenge| challenge.is_scheme("Bearer"))
}

/// A cursor over the header's bytes.
///
/// Every delimiter in the grammar is ASCII and non-ASCII bytes are only ever consumed whole (inside
/// quoted strings), so `pos` and every slice bound taken from it sit on a UTF-8 character boundary.
/// Each byte is looked at a bounded number of times (the token68 look-ahead re-reads at most one
/// token), which keeps parsing linear.
struct Parser<'h> {
    text: &'h str,
    pos: usize,
}

type ParseResult<T> = Result<T, ChallengeParseError>;

impl<'h> Parser<'h> {
    fn new(text: &'h str) -> Self {
        Self { text, pos: 0 }
    }

    fn challenges(mut self) -> ParseResult<Vec<Challenge>> {
        let mut challenges: Vec<Challenge> = Vec::new();
        loop {
            // `#challenge` allows empty elements anywhere: `, ,Basic ,, Bearer,`.
            self.skip_ows();
            while self.peek() == Some(b',') {
                self.pos += 1;
                self.skip_ows();
            }
            if self.peek().is_none() {
                break;
            }
            self.element(&mut challenges)?;
            self.skip_ows();
            match self.peek() {
                None | Some(b',') => {}
                Some(_) => return Err(self.error("expected ',' or end of header")),
            }
        }
        if challenges.is_empty() {
            return Err(self.error("no challenge"));
        }
        Ok(challenges)
    }

    /// One list element: either a new challenge (`scheme [ token68 / auth-param ]`) or an
    /// auth-param continuing the previous challenge. Leaves `pos` just after the element.
    fn element(&mut self, challenges: &mut Vec<Challenge>) -> ParseResult<()> {
        let start = self.pos;
        let name = self.token("expected an auth scheme")?;
        let after_name = self.pos;
        self.skip_ows();
        if self.peek() == Some(b'=') {
            let params = match challenges.last_mut().map(|challenge| &mut challenge.body) {
                Some(Body::Params(params)) => params,
                Some(Body::Token68(_)) => {
                    return Err(self.error_at(start, "auth parameter after a token68"));
                }
                None => {
                    return Err(self.error_at(start, "auth parameter before any auth scheme"));
                }
            };
            self.pos += 1;
            let value = self.param_value()?;
            params.push((name.to_owned(), value));
            return Ok(());
        }

        self.pos = after_name;
        let spaces = self.skip_ows();
        let body = if self.at_element_end() {
            Body::Params(Vec::new())
        } else if spaces == 0 {
            return Err(self.error("expected a space after the auth scheme"));
        } else if let Some(token68) = self.token68() {
            Body::Token68(token68.to_owned())
        } else {
            let param_name = self.token("expected a token68 or an auth parameter")?;
            self.skip_ows();
            if self.peek() != Some(b'=') {
                return Err(self.error("expected '=' after the parameter name"));
            }
            self.pos += 1;
            let value = self.param_value()?;
            Body::Params(vec![(param_name.to_owned(), value)])
        };
        challenges.push(Challenge {
            scheme: name.to_owned(),
            body,
        });
        Ok(())
    }

    /// `token68` if it is the whole rest of the element; otherwise `None` with `pos` unchanged, so
    /// the caller reads an auth-param instead (`abc==` is a token68, `abc=def` a parameter).
    fn token68(&mut self) -> Option<&'h str> {
        let start = self.pos;
        let body = self.take_while(is_token68_char);
        if body.is_empty() {
            return None;
        }
        self.take_while(|byte| byte == b'=');
        let end = self.pos;
        self.skip_ows();
        if self.at_element_end() {
            Some(&self.text[start..end])
        } else {
            self.pos = start;
            None
        }
    }

    /// The value after `name BWS "=" `: optional whitespace, then a token or a quoted-string.
    fn param_value(&mut self) -> ParseResult<String> {
        self.skip_ows();
        if self.peek() == Some(b'"') {
            self.quoted_string()
        } else if self.at_element_end() {
            Err(self.error("missing parameter value"))
        } else {
            self.token("expected a token or quoted string as the parameter value")
                .map(str::to_owned)
        }
    }

    /// A quoted-string starting at `pos`, unescaped. Control characters (other than tab) are
    /// rejected, inside or after a backslash, so values are always safe to write back out.
    fn quoted_string(&mut self) -> ParseResult<String> {
        let open = self.pos;
        self.pos += 1;
        let mut value = String::new();
        let mut run_start = self.pos;
        loop {
            match self.peek() {
                None => return Err(self.error_at(open, "unterminated quoted string")),
                Some(b'"') => {
                    value.push_str(&self.text[run_start..self.pos]);
                    self.pos += 1;
                    return Ok(value);
                }
                Some(b'\\') => {
                    value.push_str(&self.text[run_start..self.pos]);
                    self.pos += 1;
                    match self.peek() {
                        None => return Err(self.error_at(open, "unterminated quoted string")),
                        Some(byte) if is_forbidden_control(byte) => {
                            return Err(self.error("control character in quoted string"));
                        }
                        // The escaped character starts here; if it is multi-byte, its continuation
                        // bytes are obs-text and simply extend the run.
                        Some(_) => {
                            run_start = self.pos;
                            self.pos += 1;
                        }
                    }
                }
                Some(byte) if is_forbidden_control(byte) => {
                    return Err(self.error("control character in quoted string"));
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    /// `1*tchar`, or the given error if there is none at `pos`.
    fn token(&mut self, reason: &'static str) -> ParseResult<&'h str> {
        let token = self.take_while(is_tchar);
        if token.is_empty() {
            Err(self.error(reason))
        } else {
            Ok(token)
        }
    }

    /// Consumes bytes matching `accept`, ASCII only, so it never stops inside a multi-byte
    /// character.
    fn take_while(&mut self, accept: impl Fn(u8) -> bool) -> &'h str {
        let start = self.pos;
        while let Some(byte) = self.peek() {
            if !(byte.is_ascii() && accept(byte)) {
                break;
            }
            self.pos += 1;
        }
        &self.text[start..self.pos]
    }

    /// Skips `OWS` (spaces and tabs) and returns how many bytes it skipped.
    fn skip_ows(&mut self) -> usize {
        self.take_while(|byte| byte == b' ' || byte == b'\t').len()
    }

    fn at_element_end(&self) -> bool {
        matches!(self.peek(), None | Some(b','))
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn error(&self, reason: &'static str) -> ChallengeParseError {
        self.error_at(self.pos, reason)
    }

    fn error_at(&self, offset: usize, reason: &'static str) -> ChallengeParseError {
        ChallengeParseError { offset, reason }
    }
}

/// `tchar` (RFC 9110 §5.6.2): the characters of a token.
fn is_tchar(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// The characters of a token68 before its `=` padding (RFC 9110 §11.2).
fn is_token68_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-._~+/".contains(&byte)
}

/// Bytes that may not appear in a quoted-string, escaped or not: controls other than HTAB, and DEL.
fn is_forbidden_control(byte: u8) -> bool {
    (byte.is_ascii_control() && byte != b'\t') || byte == 0x7f
}

#[cfg(test)]
mod tests;

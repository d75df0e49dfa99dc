//! Reading a server's HTTP response: bodies read within a byte limit, the status mapping (auth
//! challenges, errors with a body excerpt, the fallback for servers that reject `server/discover`),
//! and the headers that matter (`Retry-After`, `Content-Type`, `Mcp-Session-Id`).

use std::time::{Duration, SystemTime};

use futures::StreamExt;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use rmcp::model::{ClientJsonRpcMessage, ClientRequest, ErrorData, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_client::{
    AuthRequiredError, InsufficientScopeError, StreamableHttpError, StreamableHttpPostResponse,
    StreamableHttpResponseLimits,
};

use super::client::collect_bounded;
use super::streamable::{EXCERPT_CHARS, HttpResult, JSON, SESSION_ID};
use crate::error::{TimeoutPhase, TransportError, sanitised_excerpt};
use crate::www_authenticate::{self, Challenge};

/// All `WWW-Authenticate` values joined, as rmcp's auth errors carry them.
fn www_authenticate(headers: &HeaderMap) -> String {
    headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn bearer_challenge(headers: &HeaderMap) -> Option<Challenge> {
    let values: Vec<String> = headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .collect();
    let challenges =
        www_authenticate::parse_challenge_values(values.iter().map(String::as_str)).ok()?;
    // A server that wants DPoP-bound tokens may challenge with the `DPoP` scheme alone (RFC 9449
    // §7.1); its parameters (`resource_metadata`, `scope`, `error`) mean what a bearer
    // challenge's do.
    www_authenticate::find_bearer(&challenges)
        .or_else(|| {
            challenges
                .iter()
                .find(|challenge| challenge.is_scheme("DPoP"))
        })
        .cloned()
}

/// Whether a 401's `WWW-Authenticate` says the DPoP proof lacked the server's current nonce
/// (RFC 9449 §9: a `DPoP` challenge with `error="use_dpop_nonce"`).
pub(super) fn asks_for_dpop_nonce(headers: &HeaderMap) -> bool {
    let values: Vec<String> = headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .collect();
    www_authenticate::parse_challenge_values(values.iter().map(String::as_str)).is_ok_and(
        |challenges| {
            challenges.iter().any(|challenge| {
                challenge.is_scheme("DPoP") && challenge.error() == Some("use_dpop_nonce")
            })
        },
    )
}

/// `Retry-After` as a duration: delay-seconds or an HTTP date (RFC 9110 §10.2.3).
pub(crate) fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(
        date.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

pub(super) fn media_type_is(value: Option<&HeaderValue>, expected: &str) -> bool {
    value
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case(expected))
}

pub(super) fn session_id_of(response: &Response<Incoming>) -> Option<String> {
    response
        .headers()
        .get(SESSION_ID)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// Reads a whole body, refusing more than `max` bytes (checked as bytes arrive, never after).
pub(super) async fn read_bounded(
    response: Response<Incoming>,
    max: usize,
    timeout: Duration,
) -> HttpResult<Vec<u8>> {
    let declared = response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max as u64) {
        return Err(StreamableHttpError::ResponseBodyTooLarge { max_size: max });
    }
    match tokio::time::timeout(timeout, collect_bounded(response.into_body(), max)).await {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(TransportError::MessageTooLarge { .. })) => {
            Err(StreamableHttpError::ResponseBodyTooLarge { max_size: max })
        }
        Ok(Err(error)) => Err(StreamableHttpError::Client(error)),
        Err(_) => Err(StreamableHttpError::Client(TransportError::Timeout {
            phase: TimeoutPhase::Request,
            after: timeout,
        })),
    }
}

/// Reads at most `max` bytes of a body for a diagnostic, and drops the rest.
pub(super) async fn read_prefix(
    response: Response<Incoming>,
    max: usize,
    timeout: Duration,
) -> Vec<u8> {
    let read = async {
        let mut stream = response.into_body().into_data_stream();
        let mut body = Vec::new();
        while body.len() < max {
            match stream.next().await {
                Some(Ok(chunk)) => {
                    body.extend_from_slice(&chunk[..chunk.len().min(max - body.len())])
                }
                _ => break,
            }
        }
        body
    };
    tokio::time::timeout(timeout, read)
        .await
        .unwrap_or_default()
}

/// A non-success status that is not about credentials or the session: the JSON-RPC error in the body
/// if there is one, else a typed status error with `Retry-After` and a body excerpt.
pub(super) async fn status_failure(
    response: Response<Incoming>,
    message: Option<&ClientJsonRpcMessage>,
    session_was_attached: bool,
    limits: StreamableHttpResponseLimits,
    timeout: Duration,
) -> HttpResult<StreamableHttpPostResponse> {
    let status = response.status();
    let retry_after = parse_retry_after(response.headers());
    let session_id = session_id_of(&response);
    let is_json = media_type_is(response.headers().get(CONTENT_TYPE), JSON);
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    // A JSON-RPC error body is a message and may be long; anything else is only a diagnostic.
    let keep = if is_json {
        limits.max_json_response_size.min(1 << 20)
    } else {
        limits.max_error_response_size
    };
    let body = read_prefix(response, keep, timeout).await;
    if let Some(response) =
        message.and_then(|message| legacy_discover(message, session_was_attached, status, &body))
    {
        return Ok(response);
    }
    if let (true, Ok(error @ ServerJsonRpcMessage::Error(_))) = (
        is_json,
        serde_json::from_slice::<ServerJsonRpcMessage>(&body),
    ) {
        return Ok(StreamableHttpPostResponse::Json(error, session_id));
    }
    let excerpt_bytes = &body[..body.len().min(limits.max_error_response_size)];
    Err(StreamableHttpError::Client(TransportError::HttpStatus {
        status: status.as_u16(),
        retry_after,
        body_excerpt: error_excerpt(content_type.as_deref(), excerpt_bytes),
    }))
}

/// How an error response's body is quoted: as it is (sanitised, bounded) unless it is an HTML
/// page, which says little in its markup and much too much whole (a framework's styled 404): then
/// only its title or its first words, and that it was a page.
pub(super) fn error_excerpt(content_type: Option<&str>, body: &[u8]) -> String {
    let is_html = content_type
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("text/html"))
        || body.trim_ascii_start().starts_with(b"<!DOCTYPE")
        || body.trim_ascii_start().starts_with(b"<html");
    if !is_html {
        return sanitised_excerpt(body, EXCERPT_CHARS);
    }
    let text = html_text(&String::from_utf8_lossy(body));
    if text.is_empty() {
        format!("(an HTML page of {} bytes)", body.len())
    } else {
        format!(
            "{} (an HTML page)",
            sanitised_excerpt(text.as_bytes(), HTML_EXCERPT_CHARS)
        )
    }
}

/// The most of an HTML page's text quoted in an error.
const HTML_EXCERPT_CHARS: usize = 80;

/// An HTML page's title, or else its text without markup, scripts and styles, with whitespace
/// collapsed and the common entities decoded.
fn html_text(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    if let Some(start) = lower.find("<title")
        && let Some(open_end) = lower[start..].find('>')
        && let Some(end) = lower[start..].find("</title")
    {
        let title = &html[start + open_end + 1..start + end];
        let title = collapse(&decode_entities(title));
        if !title.is_empty() {
            return title;
        }
    }
    let mut text = String::new();
    // `at` indexes both `html` and `lower`: ASCII lowercasing keeps every byte where it was, so
    // the page is lowercased once, not once per tag.
    let mut at = 0;
    while let Some(open) = html[at..].find('<').map(|open| at + open) {
        text.push_str(&html[at..open]);
        text.push(' ');
        let tag = &lower[open..];
        let closing = if tag.starts_with("<script") {
            "</script"
        } else if tag.starts_with("<style") {
            "</style"
        } else {
            ">"
        };
        at = match tag.find(closing) {
            Some(close) => match lower[open + close..].find('>') {
                Some(end) => open + close + end + 1,
                None => html.len(),
            },
            None => html.len(),
        };
    }
    text.push_str(&html[at..]);
    collapse(&decode_entities(&text))
}

fn decode_entities(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A server of the `initialize` era rejects the 2026-07-28 `server/discover` probe with a 4xx; rmcp
/// expects that as a JSON-RPC error so it can fall back to the handshake.
fn legacy_discover(
    message: &ClientJsonRpcMessage,
    session_was_attached: bool,
    status: StatusCode,
    body: &[u8],
) -> Option<StreamableHttpPostResponse> {
    if session_was_attached
        || !status.is_client_error()
        || matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
    {
        return None;
    }
    let ClientJsonRpcMessage::Request(request) = message else {
        return None;
    };
    if !matches!(request.request, ClientRequest::DiscoverRequest(_)) {
        return None;
    }
    let error = match serde_json::from_slice::<ServerJsonRpcMessage>(body) {
        Ok(ServerJsonRpcMessage::Error(error)) => error.error,
        _ => ErrorData::invalid_request(
            format!(
                "server/discover rejected with HTTP {status}: {}",
                sanitised_excerpt(body, EXCERPT_CHARS)
            ),
            None,
        ),
    };
    Some(StreamableHttpPostResponse::Json(
        ServerJsonRpcMessage::error(error, Some(request.id.clone())),
        None,
    ))
}

/// 401 and 403 with a challenge, mapped the way rmcp's recovery and auth layers expect.
pub(super) fn auth_failure(
    response: &Response<Incoming>,
) -> Option<StreamableHttpError<TransportError>> {
    let header = www_authenticate(response.headers());
    match response.status() {
        StatusCode::UNAUTHORIZED => Some(StreamableHttpError::AuthRequired(
            AuthRequiredError::new(header),
        )),
        StatusCode::FORBIDDEN if !header.is_empty() => {
            let scope = bearer_challenge(response.headers())
                .and_then(|challenge| challenge.scope().map(str::to_owned));
            Some(StreamableHttpError::InsufficientScope(
                InsufficientScopeError::new(header, scope),
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_html_error_page_is_quoted_by_its_title_or_first_words() {
        let titled =
            b"<!DOCTYPE html><html><head><title>404 &amp; gone</title></head><body>x</body></html>";
        assert_eq!(
            error_excerpt(Some("text/html"), titled),
            "404 & gone (an HTML page)"
        );
        let untitled =
            b"<html><head><style>p { color: red }</style><script>alert(1)</script></head>\
                         <body><pre>Cannot   POST /sse</pre></body></html>";
        assert_eq!(
            error_excerpt(Some("text/html; charset=utf-8"), untitled),
            "Cannot POST /sse (an HTML page)"
        );
        // Sniffed without a content type; an empty page says only its size.
        assert_eq!(
            error_excerpt(None, b"<!DOCTYPE html><html></html>"),
            "(an HTML page of 28 bytes)"
        );
        // Anything else is quoted as it is.
        assert_eq!(error_excerpt(Some("text/plain"), b"Not Found"), "Not Found");
        let long = format!("<title>{}</title>", "x".repeat(500));
        assert!(error_excerpt(Some("text/html"), long.as_bytes()).len() < 120);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(parse_retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        assert_eq!(parse_retry_after(&headers), Some(Duration::ZERO));
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
        headers.insert(RETRY_AFTER, HeaderValue::from_str(&later).unwrap());
        let parsed = parse_retry_after(&headers).unwrap();
        assert!(parsed > Duration::from_secs(100) && parsed <= Duration::from_secs(120));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(parse_retry_after(&headers), None);
    }

    #[test]
    fn media_types_compare_by_essence() {
        assert!(media_type_is(
            Some(&HeaderValue::from_static("Application/JSON; charset=utf-8")),
            JSON
        ));
        assert!(!media_type_is(
            Some(&HeaderValue::from_static("application/jsonl")),
            JSON
        ));
        assert!(!media_type_is(None, JSON));
    }
}

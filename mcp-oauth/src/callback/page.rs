//! The static pages the callback server answers with. Nothing from the request is ever reflected
//! in them, and every one carries the same security headers.

use http::header::{self, HeaderValue};
use http::{Response, StatusCode};

/// Which page to answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Page {
    /// The flow got its code (200; ends the flow).
    Success,
    /// The authorization server answered with an error (200; ends the flow).
    Denied,
    /// A request to the callback that cannot be used: wrong or missing `state`, no code (400).
    BadRequest,
    /// A request head that is not well-formed HTTP/1.x (400).
    Malformed,
    /// A request head over the size limit (431).
    HeadTooLarge,
    /// Any other path (404).
    NotFound,
    /// Any method but `GET` (405).
    MethodNotAllowed,
}

/// A static page: nothing from the request is ever reflected. The connection headers
/// (`Content-Length`, `Date`, `Connection: close`) are added when it is written.
pub(super) fn page(kind: Page) -> Response<String> {
    let (status, title, message) = match kind {
        Page::Success => (
            StatusCode::OK,
            "Signed in",
            "Authorization is complete. You can close this window and return to the application.",
        ),
        Page::Denied => (
            StatusCode::OK,
            "Sign-in failed",
            "The authorization server did not grant access. Return to the application for details.",
        ),
        Page::BadRequest => (
            StatusCode::BAD_REQUEST,
            "Bad request",
            "This sign-in response could not be used. Return to the application and try again.",
        ),
        Page::Malformed => (
            StatusCode::BAD_REQUEST,
            "Bad request",
            "The request could not be read.",
        ),
        Page::HeadTooLarge => (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "Request header fields too large",
            "The request headers are larger than this server accepts.",
        ),
        Page::NotFound => (StatusCode::NOT_FOUND, "Not found", "Nothing is here."),
        Page::MethodNotAllowed => (
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed",
            "Only GET is accepted here.",
        ),
    };
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1><p>{message}</p></body></html>\n"
    );
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if kind == Page::MethodNotAllowed {
        headers.insert(header::ALLOW, HeaderValue::from_static("GET"));
    }
    response
}

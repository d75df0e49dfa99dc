//! Unit tests of the callback server's parts: path validation, query parsing, state handling.

use super::*;

#[test]
fn paths_must_be_plain_and_absolute() {
    validate_path("/callback").expect("/callback");
    validate_path("/oauth/cb-1").expect("/oauth/cb-1");
    for bad in ["callback", "", "/a?b=1", "/a#x", "/a b", "/a/../b", "/é"] {
        assert!(
            matches!(validate_path(bad), Err(CallbackError::InvalidPath { .. })),
            "{bad:?} should be rejected"
        );
    }
}

#[test]
fn repeated_parameters_are_refused() {
    assert!(CallbackParams::parse("state=a&state=a").is_none());
    assert!(CallbackParams::parse("code=a&state=b&code=c").is_none());
    assert!(CallbackParams::parse("x=1&x=2").is_none());
    let params = CallbackParams::parse("code=a%2Bb+c&state=s").expect("valid query");
    assert_eq!(params.code.as_deref(), Some("a+b c"));
}

#[test]
fn constant_time_eq_compares_exactly() {
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"abcd"));
}

#[test]
fn sanitize_drops_control_characters_and_caps_length() {
    assert_eq!(sanitize("a\u{1b}[31mb\nc"), "a[31mbc");
    assert_eq!(sanitize(&"x".repeat(2000)).len(), MAX_ERROR_TEXT);
}

#[test]
fn random_state_is_128_bits_of_hex_and_fresh() {
    let a = random_state().expect("OS randomness");
    let b = random_state().expect("OS randomness");
    assert_eq!(a.len(), 32);
    assert!(
        a.bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    assert_ne!(a, b);
}

#[test]
fn bind_outside_a_runtime_is_a_clear_error() {
    let error = CallbackServer::bind(CallbackOptions::new()).expect_err("no runtime");
    assert!(matches!(error, CallbackError::NoRuntime));
}

#[test]
fn authorization_debug_hides_the_code() {
    let authorization = Authorization {
        code: "secret-code".into(),
        state: "s".into(),
        iss: None,
    };
    assert!(!format!("{authorization:?}").contains("secret-code"));
}

/// Reads one head from `bytes`, delivered in one piece.
async fn head_of(bytes: &[u8]) -> wire::Received {
    let mut reader = bytes;
    wire::read_head(&mut reader).await.expect("in-memory read")
}

fn request_of(received: wire::Received) -> Request<()> {
    match received {
        wire::Received::Request(request) => *request,
        other => panic!("expected a request, got {other:?}"),
    }
}

fn refusal_of(received: wire::Received) -> wire::Refusal {
    match received {
        wire::Received::Refused(refusal) => refusal,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_request_line_becomes_method_path_query_version_and_headers() {
    let request = request_of(
        head_of(b"GET /callback?code=a&state=b HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Two:  v  \r\n\r\n")
            .await,
    );
    assert_eq!(request.method(), Method::GET);
    assert_eq!(request.uri().path(), "/callback");
    assert_eq!(request.uri().query(), Some("code=a&state=b"));
    assert_eq!(request.version(), http::Version::HTTP_11);
    assert_eq!(request.headers()["host"], "127.0.0.1");
    assert_eq!(request.headers()["x-two"], "v");
}

#[tokio::test]
async fn leading_empty_lines_and_bare_line_feeds_are_accepted() {
    let request = request_of(head_of(b"\r\n\nGET /callback HTTP/1.0\nHost: h\n\n").await);
    assert_eq!(request.uri().path(), "/callback");
    assert_eq!(request.version(), http::Version::HTTP_10);
    assert_eq!(request.headers()["host"], "h");
}

#[tokio::test]
async fn a_head_split_across_many_reads_is_assembled() {
    let (mut client, mut server) = tokio::io::duplex(64);
    let writer = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        for byte in b"GET /callback?code=x HTTP/1.1\r\nHost: h\r\n\r\n" {
            client.write_all(&[*byte]).await.expect("write");
            tokio::task::yield_now().await;
        }
        client
    });
    let request = request_of(wire::read_head(&mut server).await.expect("read"));
    assert_eq!(request.uri().query(), Some("code=x"));
    drop(writer.await.expect("join"));
}

#[tokio::test]
async fn malformed_heads_are_refused_as_malformed() {
    for head in [
        &b"hello\r\n\r\n"[..],
        b"GET /callback\r\n\r\n",
        b"GET  /callback HTTP/1.1\r\n\r\n",
        b"GET /callback HTTP/1.1 extra\r\n\r\n",
        b"GET /callback HTTP/2.0\r\n\r\n",
        b"GET /callback http/1.1\r\n\r\n",
        b"G(T /callback HTTP/1.1\r\n\r\n",
        b"GET /call\x01back HTTP/1.1\r\n\r\n",
        b"GET /callback HTTP/1.1\r\nHost : h\r\n\r\n",
        b"GET /callback HTTP/1.1\r\nno colon\r\n\r\n",
        b"GET /callback HTTP/1.1\r\n: empty name\r\n\r\n",
        b"GET /callback HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
        b"GET /callback HTTP/1.1\r\nX: a\x00b\r\n\r\n",
        b"GET /callback HTTP/1.1\r\nX: a\rb\r\n\r\n",
    ] {
        assert_eq!(
            refusal_of(head_of(head).await),
            wire::Refusal::Malformed,
            "{:?}",
            String::from_utf8_lossy(head)
        );
    }
}

#[tokio::test]
async fn a_head_over_the_size_limit_is_too_large() {
    let mut head = b"GET /callback HTTP/1.1\r\nX-Filler: ".to_vec();
    head.resize(wire::MAX_HEAD_BYTES, b'a');
    head.extend_from_slice(b"\r\n\r\n");
    assert_eq!(refusal_of(head_of(&head).await), wire::Refusal::TooLarge);

    // Exactly at the limit, the final empty line included, is still accepted.
    let mut head = b"GET /callback HTTP/1.1\r\nX-Filler: ".to_vec();
    head.resize(wire::MAX_HEAD_BYTES - 4, b'a');
    head.extend_from_slice(b"\r\n\r\n");
    assert_eq!(head.len(), wire::MAX_HEAD_BYTES);
    request_of(head_of(&head).await);
}

#[tokio::test]
async fn more_header_fields_than_the_limit_is_too_large() {
    let head_with = |fields: usize| {
        let mut head = String::from("GET /callback HTTP/1.1\r\n");
        for field in 0..fields {
            head.push_str(&format!("X-{field}: v\r\n"));
        }
        head.push_str("\r\n");
        head
    };
    let allowed = head_with(wire::MAX_HEADER_FIELDS);
    request_of(head_of(allowed.as_bytes()).await);
    let refused = head_with(wire::MAX_HEADER_FIELDS + 1);
    assert_eq!(
        refusal_of(head_of(refused.as_bytes()).await),
        wire::Refusal::TooLarge
    );
}

#[tokio::test]
async fn a_connection_closed_before_the_head_ends_is_closed() {
    for partial in [&b""[..], b"\r\n", b"GET /callback HTTP/1.1\r\nHost: h\r\n"] {
        assert!(matches!(head_of(partial).await, wire::Received::Closed));
    }
}

#[test]
fn a_response_is_written_with_length_date_and_connection_close() {
    let bytes = wire::encode(page::page(Page::NotFound), false);
    let text = String::from_utf8(bytes).expect("ASCII");
    let (head, body) = text.split_once("\r\n\r\n").expect("a head");
    assert!(head.starts_with("HTTP/1.1 404 Not Found\r\n"), "{head}");
    assert!(head.contains(&format!("\r\ncontent-length: {}\r\n", body.len())));
    assert!(head.contains("\r\nconnection: close"), "{head}");
    assert!(head.contains("\r\ndate: "), "{head}");
    assert!(body.contains("Not found"));

    let head_only = wire::encode(page::page(Page::NotFound), true);
    let text = String::from_utf8(head_only).expect("ASCII");
    assert!(text.ends_with("\r\n\r\n"), "{text}");
    assert!(text.contains(&format!("content-length: {}\r\n", body.len())));
}

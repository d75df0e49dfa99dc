//! The parser against the RFC grammar, the headers real servers send, and untrusted input.

use super::*;
use proptest::prelude::*;

fn parse_one(header: &str) -> Challenge {
    let mut challenges = parse_challenges(header).unwrap();
    assert_eq!(challenges.len(), 1, "expected one challenge in {header:?}");
    challenges.remove(0)
}

fn params_of(challenge: &Challenge) -> Vec<(&str, &str)> {
    challenge.params().collect()
}

fn reason_of(header: &str) -> &'static str {
    parse_challenges(header).unwrap_err().reason()
}

#[test]
fn mcp_bearer_challenge_exposes_oauth_parameters() {
    let bearer = parse_one(
        r#"Bearer error="insufficient_scope", error_description="needs write", scope="files:read files:write", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource""#,
    );
    assert_eq!(bearer.scheme(), "Bearer");
    assert_eq!(bearer.error(), Some("insufficient_scope"));
    assert_eq!(bearer.error_description(), Some("needs write"));
    assert_eq!(bearer.scope(), Some("files:read files:write"));
    assert_eq!(
        bearer.scopes().collect::<Vec<_>>(),
        ["files:read", "files:write"]
    );
    assert_eq!(
        bearer.resource_metadata(),
        Some("https://mcp.example.com/.well-known/oauth-protected-resource")
    );
    assert_eq!(bearer.realm(), None);
    assert_eq!(bearer.token68(), None);
}

#[test]
fn several_challenges_in_one_value_are_split_at_schemes() {
    let challenges = parse_challenges(
        r#"Basic realm="a", Bearer error="invalid_token", scope="read write", resource_metadata="https://x/.well-known/oauth-protected-resource""#,
    )
    .unwrap();
    assert_eq!(challenges.len(), 2);
    assert_eq!(challenges[0].scheme(), "Basic");
    assert_eq!(params_of(&challenges[0]), [("realm", "a")]);
    assert_eq!(challenges[1].scheme(), "Bearer");
    assert_eq!(
        params_of(&challenges[1]),
        [
            ("error", "invalid_token"),
            ("scope", "read write"),
            (
                "resource_metadata",
                "https://x/.well-known/oauth-protected-resource"
            ),
        ]
    );
}

#[test]
fn rfc_9110_example_with_escapes_and_token_values_parses() {
    let challenges = parse_challenges(
        r#"Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple""#,
    )
    .unwrap();
    assert_eq!(challenges.len(), 2);
    assert_eq!(
        params_of(&challenges[0]),
        [
            ("realm", "apps"),
            ("type", "1"),
            ("title", r#"Login to "apps""#)
        ]
    );
    assert_eq!(challenges[1].realm(), Some("simple"));
}

#[test]
fn token68_is_told_apart_from_parameters() {
    let basic = parse_one("Basic dXNlcjpwYXNz==");
    assert_eq!(basic.token68(), Some("dXNlcjpwYXNz=="));
    assert_eq!(basic.params().count(), 0);

    let unpadded = parse_one("Negotiate a87421/+_.~-");
    assert_eq!(unpadded.token68(), Some("a87421/+_.~-"));

    let param = parse_one("Bearer abc=def");
    assert_eq!(param.token68(), None);
    assert_eq!(param.param("abc"), Some("def"));
}

#[test]
fn token68_may_be_followed_by_another_challenge() {
    let challenges = parse_challenges(r#"Basic dXNlcjpwYXNz== , Bearer realm="r""#).unwrap();
    assert_eq!(challenges[0].token68(), Some("dXNlcjpwYXNz=="));
    assert_eq!(challenges[1].realm(), Some("r"));
}

#[test]
fn scheme_without_parameters_is_a_challenge() {
    let challenges = parse_challenges("Bearer, Basic").unwrap();
    assert_eq!(challenges.len(), 2);
    assert!(challenges.iter().all(|c| c.params().count() == 0));
    assert!(challenges.iter().all(|c| c.token68().is_none()));
}

#[test]
fn scheme_and_parameter_names_match_ignoring_case() {
    let challenge = parse_one(r#"bEaReR REALM="r", Resource_Metadata="https://x/m""#);
    assert_eq!(challenge.scheme(), "bEaReR");
    assert!(challenge.is_scheme("Bearer"));
    assert!(!challenge.is_scheme("Basic"));
    assert_eq!(challenge.realm(), Some("r"));
    assert_eq!(challenge.resource_metadata(), Some("https://x/m"));
    assert_eq!(params_of(&challenge)[0], ("REALM", "r"));
}

#[test]
fn duplicate_parameter_lookup_returns_first_and_params_keeps_all() {
    let challenge = parse_one(r#"Bearer scope="a", SCOPE="b""#);
    assert_eq!(challenge.scope(), Some("a"));
    assert_eq!(params_of(&challenge), [("scope", "a"), ("SCOPE", "b")]);
}

#[test]
fn find_bearer_returns_first_bearer_ignoring_case() {
    let challenges =
        parse_challenges(r#"Basic realm="a", bearer realm="b", Bearer realm="c""#).unwrap();
    assert_eq!(find_bearer(&challenges).unwrap().realm(), Some("b"));
    assert!(find_bearer(&parse_challenges("Basic").unwrap()).is_none());
}

#[test]
fn quoted_string_escapes_are_unescaped() {
    let challenge = parse_one(r#"Bearer a="q\"uote", b="back\\slash", c="\x\ y", d="""#);
    assert_eq!(
        params_of(&challenge),
        [
            ("a", r#"q"uote"#),
            ("b", r"back\slash"),
            ("c", "x y"),
            ("d", "")
        ]
    );
}

#[test]
fn quoted_string_keeps_commas_equals_and_non_ascii() {
    let challenge =
        parse_one("Bearer realm=\"a, b=c\", error_description=\"caf\u{e9} \\\u{2603}\"");
    assert_eq!(challenge.realm(), Some("a, b=c"));
    assert_eq!(challenge.error_description(), Some("caf\u{e9} \u{2603}"));
}

#[test]
fn empty_list_elements_and_whitespace_are_tolerated() {
    let challenges =
        parse_challenges(" ,\t, Basic realm=\"a\" ,, ,Bearer ,scope=\"s\",\t, ").unwrap();
    assert_eq!(challenges.len(), 2);
    assert_eq!(challenges[0].realm(), Some("a"));
    assert_eq!(challenges[1].scheme(), "Bearer");
    assert_eq!(challenges[1].scope(), Some("s"));
}

#[test]
fn whitespace_around_equals_is_accepted() {
    let challenge = parse_one("Bearer realm = \"r\", scope\t=\tread, error =x");
    assert_eq!(
        params_of(&challenge),
        [("realm", "r"), ("scope", "read"), ("error", "x")]
    );
}

#[test]
fn scopes_skip_extra_spaces_and_are_empty_without_scope() {
    let challenge = parse_one(r#"Bearer scope="  a   b ""#);
    assert_eq!(challenge.scopes().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(parse_one("Bearer").scopes().count(), 0);
}

#[test]
fn several_values_parse_as_if_joined_with_commas() {
    let challenges =
        parse_challenge_values(["Basic realm=\"a\"", "", "Bearer realm=\"b\"", "scope=\"s\""])
            .unwrap();
    assert_eq!(challenges.len(), 2);
    assert_eq!(challenges[1].realm(), Some("b"));
    assert_eq!(challenges[1].scope(), Some("s"));
    assert_eq!(
        parse_challenge_values(Vec::<&str>::new())
            .unwrap_err()
            .reason(),
        "no challenge"
    );
}

#[test]
fn empty_or_blank_header_has_no_challenge() {
    for header in ["", "   ", " \t ", ",", " , ,, "] {
        assert_eq!(reason_of(header), "no challenge", "{header:?}");
    }
}

#[test]
fn unterminated_quoted_string_is_reported_at_its_opening_quote() {
    let err = parse_challenges(r#"Bearer realm="abc"#).unwrap_err();
    assert_eq!(err.offset(), 13);
    assert_eq!(err.reason(), "unterminated quoted string");
    assert_eq!(
        err.to_string(),
        "malformed WWW-Authenticate header at byte 13: unterminated quoted string"
    );
    assert_eq!(
        reason_of(r#"Bearer realm="abc\"#),
        "unterminated quoted string"
    );
}

#[test]
fn missing_parameter_value_is_an_error() {
    assert_eq!(
        reason_of(r#"Bearer realm="r", scope="#),
        "missing parameter value"
    );
    assert_eq!(
        reason_of(r#"Bearer realm="r", scope= , error="e""#),
        "missing parameter value"
    );
}

#[test]
fn parameter_without_a_scheme_is_an_error() {
    let err = parse_challenges(r#"realm="r", Bearer"#).unwrap_err();
    assert_eq!(err.offset(), 0);
    assert_eq!(err.reason(), "auth parameter before any auth scheme");
}

#[test]
fn parameter_after_token68_is_an_error() {
    assert_eq!(
        reason_of(r#"Basic dXNlcg==, realm="r""#),
        "auth parameter after a token68"
    );
}

#[test]
fn garbage_is_rejected_with_a_reason() {
    let cases = [
        ("\"Bearer\"", "expected an auth scheme"),
        ("Bearer \"x\"", "expected a token68 or an auth parameter"),
        ("Bearer\"x\"", "expected a space after the auth scheme"),
        ("Bearer a b", "expected '=' after the parameter name"),
        ("Bearer a=\"b\" c", "expected ',' or end of header"),
        ("Bearer a=b=c", "expected ',' or end of header"),
        (
            "Bearer a=@",
            "expected a token or quoted string as the parameter value",
        ),
        ("Bearer a=\"x\ny\"", "control character in quoted string"),
        (
            "Bearer a=\"x\\\u{0}\"",
            "control character in quoted string",
        ),
        ("Bearer a=\"x\u{7f}\"", "control character in quoted string"),
        ("B\u{e9}arer", "expected a space after the auth scheme"),
        ("\u{2603}", "expected an auth scheme"),
    ];
    for (header, reason) in cases {
        assert_eq!(reason_of(header), reason, "{header:?}");
    }
}

#[test]
fn error_message_never_quotes_the_header() {
    let secret = "s3cr3t-t0k3n";
    let err = parse_challenges(&format!("Bearer {secret} {secret}")).unwrap_err();
    assert!(!err.to_string().contains(secret));
    assert!(!format!("{err:?}").contains(secret));
}

#[test]
fn display_writes_canonical_form() {
    let challenge = parse_one(r#"Bearer  realm = r, title="say \"hi\" \\ \x""#);
    assert_eq!(
        challenge.to_string(),
        r#"Bearer realm="r", title="say \"hi\" \\ x""#
    );
    assert_eq!(parse_one("Basic   abc==").to_string(), "Basic abc==");
    assert_eq!(parse_one("Bearer  ").to_string(), "Bearer");
}

#[test]
fn huge_input_is_parsed_without_trouble() {
    let many = "Bearer a=\"b\", ".repeat(50_000);
    assert_eq!(parse_challenges(&many).unwrap().len(), 50_000);
    let long_value = format!("Bearer a=\"{}\"", "\\x".repeat(200_000));
    assert_eq!(parse_one(&long_value).param("a").unwrap().len(), 200_000);
    let commas = ",".repeat(200_000);
    assert_eq!(reason_of(&commas), "no challenge");
}

fn token() -> impl Strategy<Value = String> {
    "[!#$%&'*+.^_`|~0-9A-Za-z-]{1,10}"
}

fn challenge() -> impl Strategy<Value = Challenge> {
    let token68 = "[A-Za-z0-9._~+/-]{1,16}={0,3}".prop_map(Body::Token68);
    // Any text a quoted-string can carry: tab, visible ASCII, space, and non-ASCII.
    let value = "[\t -~\u{80}-\u{10FFFF}]{0,16}";
    let params = prop::collection::vec((token(), value), 0..5).prop_map(Body::Params);
    (token(), prop_oneof![token68, params]).prop_map(|(scheme, body)| Challenge { scheme, body })
}

proptest! {
    #[test]
    fn parse_never_panics_on_arbitrary_text(header in any::<String>()) {
        let _ = parse_challenges(&header);
    }

    #[test]
    fn parse_never_panics_on_grammar_characters(
        header in "[\"\\\\,= \tA-Za-z0-9/+=\u{e9}\u{0}]{0,40}",
    ) {
        if let Err(err) = parse_challenges(&header) {
            prop_assert!(err.offset() <= header.len());
        }
    }

    #[test]
    fn display_output_parses_back_to_the_same_challenge(challenge in challenge()) {
        let shown = challenge.to_string();
        prop_assert_eq!(parse_challenges(&shown), Ok(vec![challenge]));
    }

    #[test]
    fn displayed_challenges_joined_with_commas_parse_back_to_the_same_list(
        challenges in prop::collection::vec(challenge(), 1..4),
    ) {
        let shown: Vec<String> = challenges.iter().map(ToString::to_string).collect();
        prop_assert_eq!(parse_challenges(&shown.join(", ")), Ok(challenges.clone()));
        let values = shown.iter().map(String::as_str);
        prop_assert_eq!(parse_challenge_values(values), Ok(challenges));
    }
}

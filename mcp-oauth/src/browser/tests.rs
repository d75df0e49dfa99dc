//! Unit tests of the browsers' parts: URL checks, redirect handling, the platform opener.

use super::*;

fn url(text: &str) -> Url {
    Url::parse(text).expect("a URL")
}

#[test]
fn loopback_hosts_are_the_127_network_ipv6_loopback_and_localhost() {
    for ok in [
        "http://127.0.0.1/",
        "http://127.255.0.9:99/",
        "http://[::1]:8080/",
        "http://localhost/",
        "http://LOCALHOST:1/",
    ] {
        check_authorization_url(&url(ok)).expect(ok);
    }
    for bad in [
        "http://128.0.0.1/",
        "http://[::2]/",
        "http://localhost.example.com/",
        "http://0.0.0.0/",
        "http://10.0.0.1/",
    ] {
        assert!(
            matches!(
                check_authorization_url(&url(bad)),
                Err(BrowserError::InsecureHttp { .. })
            ),
            "{bad}"
        );
    }
}

#[test]
fn without_query_drops_query_fragment_and_userinfo() {
    assert_eq!(
        without_query(&url("https://u:p@a.example/x/y?state=s#f")),
        "https://a.example/x/y"
    );
}

#[test]
fn requests_drop_the_fragment_and_carry_no_headers() {
    let request = get_request(&url("https://a.example/x?q=1#frag")).expect("a request");
    assert_eq!(request.uri(), "https://a.example/x?q=1");
    assert_eq!(request.method(), http::Method::GET);
    assert!(request.headers().is_empty());
}

#[test]
fn only_the_five_redirect_statuses_are_followed() {
    for code in [301, 302, 303, 307, 308] {
        assert!(is_followed_redirect(
            StatusCode::from_u16(code).expect("a status")
        ));
    }
    for code in [200, 300, 304, 305, 400] {
        assert!(!is_followed_redirect(
            StatusCode::from_u16(code).expect("a status")
        ));
    }
}

#[test]
fn relative_locations_resolve_against_the_current_url() {
    let mut headers = http::HeaderMap::new();
    headers.insert(header::LOCATION, http::HeaderValue::from_static("../b?x=1"));
    let next = redirect_target(&url("https://a.example/p/q/r"), StatusCode::FOUND, &headers)
        .expect("a target");
    assert_eq!(next.as_str(), "https://a.example/p/b?x=1");
    let error = redirect_target(
        &url("https://a.example/p?state=secret"),
        StatusCode::FOUND,
        &http::HeaderMap::new(),
    )
    .expect_err("no Location");
    assert!(!error.to_string().contains("secret"), "{error}");
}

#[test]
fn the_platform_opener_is_chosen_by_target_os() {
    let browser = SystemBrowser::new();
    #[cfg(target_os = "linux")]
    assert_eq!(browser.program, PathBuf::from("xdg-open"));
    #[cfg(target_os = "windows")]
    assert_eq!(browser.leading_args, ["url.dll,FileProtocolHandler"]);
    assert!(browser.leading_args.len() <= 1);
}

//! The browsers: the URL check, the system opener (with a fake opener script), the printed line,
//! and following redirects against stub servers and a real callback server on 127.0.0.1.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use http::StatusCode;
use mcp_oauth::browser::{
    Browser, BrowserError, BrowserMode, FollowBrowser, MAX_REDIRECTS, PrintBrowser, SystemBrowser,
    check_authorization_url,
};
use mcp_oauth::callback::{CallbackOptions, CallbackServer};
use url::Url;

use crate::support::{Response, Stub, TempDir, http};

fn url(text: &str) -> Url {
    Url::parse(text).expect("a URL")
}

/// A URL full of what a shell would interpret: `&`, `;`, `$(...)`, backticks, `%PATH%`.
fn hostile_url() -> Url {
    url(
        "https://auth.example.com/authorize?a=1&b=2;echo%20x&c=$(touch /tmp/pwned)&d=%PATH%&e=`id`|more",
    )
}

// ---------------------------------------------------------------------------------------------
// check_authorization_url

#[test]
fn https_is_accepted() {
    check_authorization_url(&url("https://auth.example.com/authorize?state=s"))
        .expect("https is accepted");
}

#[test]
fn http_to_loopback_is_accepted() {
    check_authorization_url(&url("http://127.0.0.1:4321/authorize"))
        .expect("http://127.0.0.1:4321/authorize");
    check_authorization_url(&url("http://[::1]/authorize")).expect("http://[::1]/authorize");
    check_authorization_url(&url("http://localhost:8080/authorize"))
        .expect("http://localhost:8080/authorize");
}

#[test]
fn http_to_another_host_is_refused_naming_the_host_not_the_query() {
    let error = check_authorization_url(&url("http://example.com/authorize?state=secret-state"))
        .expect_err("plain http off this machine");
    assert!(
        matches!(&error, BrowserError::InsecureHttp { host } if host == "example.com"),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("example.com"), "{message}");
    assert!(!message.contains("secret-state"), "{message}");
}

#[test]
fn non_http_schemes_are_refused() {
    for (text, scheme) in [
        ("javascript:alert(document.cookie)", "javascript"),
        ("data:text/html,<script>alert(1)</script>", "data"),
        ("file:///etc/passwd", "file"),
        ("vbscript:msgbox(1)", "vbscript"),
        ("ftp://example.com/x", "ftp"),
        ("mailto:a@example.com", "mailto"),
        ("HTTPX://example.com/", "httpx"),
    ] {
        let error = check_authorization_url(&url(text)).expect_err(text);
        assert!(
            matches!(&error, BrowserError::UnsupportedScheme { scheme: s } if s == scheme),
            "{text}: {error:?}"
        );
        assert!(error.is_refused_url());
    }
}

#[test]
fn userinfo_is_refused() {
    for text in [
        "https://alice:hunter2@auth.example.com/authorize",
        "https://alice@auth.example.com/authorize",
        "http://alice@127.0.0.1/authorize",
    ] {
        let error = check_authorization_url(&url(text)).expect_err(text);
        assert!(
            matches!(error, BrowserError::Credentials { .. }),
            "{text}: {error:?}"
        );
        let message = error.to_string();
        assert!(!message.contains("alice"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }
}

#[test]
fn shell_metacharacters_in_the_query_are_accepted() {
    let hostile = hostile_url();
    assert!(hostile.as_str().contains("$(touch"), "{hostile}");
    assert!(hostile.as_str().contains("%PATH%"), "{hostile}");
    check_authorization_url(&hostile).expect("a hostile query is still a valid URL");
}

// ---------------------------------------------------------------------------------------------
// SystemBrowser, with a fake opener

/// A scratch directory for opener scripts, removed on drop.
struct Scratch(TempDir);

impl Scratch {
    fn new(name: &str) -> Self {
        Self(TempDir::new(&format!("browser-{name}")))
    }

    /// `name` in the directory.
    fn join(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    /// Writes a `/bin/sh` script. It is run as `sh SCRIPT ...`, not executed itself, so a
    /// concurrent fork in another test cannot make exec fail with "text file busy".
    fn script(&self, body: &str) -> PathBuf {
        let path = self.join("opener.sh");
        std::fs::write(&path, body).expect("write the script");
        path
    }
}

/// An opener that records its pid in `OUT.pid` and its arguments, NUL-terminated, in `OUT`.
const RECORDING_OPENER: &str = r#"out="$1"
shift
printf '%s' "$$" > "$out.pid"
for arg in "$@"; do printf '%s\0' "$arg"; done > "$out"
"#;

fn recording_browser(scratch: &Scratch) -> (SystemBrowser, PathBuf) {
    let script = scratch.script(RECORDING_OPENER);
    let out = scratch.join("argv");
    let browser = SystemBrowser::with_opener(
        "/bin/sh",
        vec![
            script.to_string_lossy().into_owned(),
            out.to_string_lossy().into_owned(),
        ],
    );
    (browser, out)
}

#[cfg(unix)]
#[tokio::test]
async fn the_system_opener_gets_the_url_as_one_unchanged_argument() {
    let scratch = Scratch::new("argv");
    let (browser, out) = recording_browser(&scratch);
    let hostile = hostile_url();
    browser.open(&hostile).await.expect("opened");
    let recorded = std::fs::read(&out).expect("the opener ran");
    let mut expected = hostile.as_str().as_bytes().to_vec();
    expected.push(0);
    assert_eq!(
        String::from_utf8_lossy(&recorded),
        String::from_utf8_lossy(&expected)
    );
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn the_system_opener_is_reaped_before_open_returns() {
    let scratch = Scratch::new("reap");
    let (browser, out) = recording_browser(&scratch);
    browser
        .open(&url("https://auth.example.com/authorize"))
        .await
        .expect("opened");
    let pid = std::fs::read_to_string(out.with_extension("pid")).expect("the opener's pid");
    let pid = pid.trim();
    assert!(!pid.is_empty());
    // Gone from /proc, or (if the number was reused meanwhile) not our zombie child.
    if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
        let parent = format!("PPid:\t{}", std::process::id());
        let zombie = status.lines().any(|line| line.starts_with("State:\tZ"));
        assert!(
            !(zombie && status.lines().any(|line| line == parent)),
            "opener {pid} left as a zombie:\n{status}"
        );
    }
}

#[tokio::test]
async fn a_missing_opener_is_a_typed_error_suggesting_browser_none() {
    let scratch = Scratch::new("missing");
    let browser = SystemBrowser::with_opener(scratch.join("no-such-opener"), Vec::new());
    let error = browser
        .open(&url("https://auth.example.com/authorize"))
        .await
        .expect_err("no opener");
    assert!(error.is_opener_missing(), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("--browser none"), "{message}");
    assert!(message.contains("MCPCORD_BROWSER=none"), "{message}");
}

#[cfg(unix)]
#[tokio::test]
async fn a_failing_opener_is_an_error() {
    let scratch = Scratch::new("fail");
    let script = scratch.script("exit 1\n");
    let browser =
        SystemBrowser::with_opener("/bin/sh", vec![script.to_string_lossy().into_owned()]);
    let error = browser
        .open(&url("https://auth.example.com/authorize"))
        .await
        .expect_err("exit 1");
    assert!(
        matches!(&error, BrowserError::OpenerFailed { status, .. } if status.code() == Some(1)),
        "{error:?}"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn the_system_browser_refuses_a_bad_url_without_running_the_opener() {
    let scratch = Scratch::new("refuse");
    let (browser, out) = recording_browser(&scratch);
    let error = browser
        .open(&url("javascript:alert(1)"))
        .await
        .expect_err("refused");
    assert!(error.is_refused_url(), "{error:?}");
    assert!(!out.exists(), "the opener ran");
}

// ---------------------------------------------------------------------------------------------
// PrintBrowser

#[tokio::test]
async fn the_print_browser_writes_one_line_with_the_url() {
    let output = Arc::new(Mutex::new(Vec::<u8>::new()));
    let browser = PrintBrowser::to_writer(output.clone());
    let target = url("https://auth.example.com/authorize?client_id=c&state=s");
    browser.open(&target).await.expect("printed");
    let printed = String::from_utf8(output.lock().expect("output").clone()).expect("UTF-8");
    assert_eq!(
        printed,
        format!("Open this URL in a browser to authorize: {target}\n")
    );
}

#[tokio::test]
async fn the_print_browser_refuses_a_bad_url_and_prints_nothing() {
    let output = Arc::new(Mutex::new(Vec::<u8>::new()));
    let browser = PrintBrowser::to_writer(output.clone());
    let error = browser
        .open(&url("data:text/html,hi"))
        .await
        .expect_err("refused");
    assert!(error.is_refused_url(), "{error:?}");
    assert!(output.lock().expect("output").is_empty());
}

// ---------------------------------------------------------------------------------------------
// FollowBrowser

/// A stub HTTP server on 127.0.0.1 that records each request and answers by
/// `route(target, base)`: a status and extra header lines for the request's path and query; the
/// body is always `ok`.
async fn stub(route: impl Fn(&str, &str) -> (u16, Vec<(String, String)>) + Send + 'static) -> Stub {
    Stub::start(move |request, base| {
        let (status, headers) = route(&request.target, base);
        headers
            .into_iter()
            .fold(Response::status(status), |response, (name, value)| {
                response.header(&name, value)
            })
            .body("ok")
    })
    .await
}

fn location(target: impl std::fmt::Display) -> Vec<(String, String)> {
    vec![("location".to_owned(), target.to_string())]
}

/// Follows from `path` on `stub` with a [`FollowBrowser`].
async fn follow(stub: &Stub, path: &str) -> Result<(), BrowserError> {
    FollowBrowser::new(http()).open(&stub.join(path)).await
}

/// Follows from `/authorize` on a stub redirecting there to `target`, expecting the redirect to
/// be refused after the first request; returns the error.
async fn redirect_refused(target: &'static str) -> BrowserError {
    let stub = stub(move |_, _| (302, location(target))).await;
    let error = follow(&stub, "/authorize").await.expect_err("refused");
    assert_eq!(stub.requests().len(), 1);
    error
}

/// Why a redirect was refused; panics unless `error` is [`BrowserError::RedirectRefused`].
fn refusal_reason(error: &BrowserError) -> &BrowserError {
    let BrowserError::RedirectRefused { reason, .. } = error else {
        panic!("expected RedirectRefused, got {error:?}");
    };
    reason
}

/// Waits for the callback server to receive the authorization.
async fn code_arrived(callback: CallbackServer) -> mcp_oauth::callback::Authorization {
    callback
        .wait(std::time::Duration::from_secs(5))
        .await
        .expect("the code arrived")
}

#[tokio::test]
async fn follow_goes_through_302_and_303_to_the_callback_which_gets_the_code() {
    let callback = CallbackServer::bind(CallbackOptions::new()).expect("callback server");
    callback.expect("S");
    let redirect_uri = callback.redirect_uri();
    let stub = stub(move |target, _| match target {
        // Relative, resolved against /authorize.
        t if t.starts_with("/authorize") => (302, location("step")),
        "/step" => (303, location(format!("{redirect_uri}?code=c&state=S"))),
        _ => (404, Vec::new()),
    })
    .await;
    follow(&stub, "/authorize?client_id=x&state=S")
        .await
        .expect("followed to the callback");
    let authorization = code_arrived(callback).await;
    assert_eq!(authorization.code, "c");
    assert_eq!(authorization.state, "S");
    assert_eq!(stub.targets(), ["/authorize?client_id=x&state=S", "/step"]);
}

#[tokio::test]
async fn follow_takes_301_and_a_cross_origin_308() {
    let callback = CallbackServer::bind(CallbackOptions::new()).expect("callback server");
    callback.expect("S");
    let redirect_uri = callback.redirect_uri();
    let stub = stub(move |target, base| match target {
        "/a" => (301, location(format!("{base}/b"))),
        "/b" => (308, location(format!("{redirect_uri}?code=c2&state=S"))),
        _ => (404, Vec::new()),
    })
    .await;
    follow(&stub, "/a").await.expect("followed to the callback");
    let authorization = code_arrived(callback).await;
    assert_eq!(authorization.code, "c2");
}

#[tokio::test]
async fn follow_sends_no_cookies_or_credentials() {
    let stub = stub(|target, _| match target {
        "/authorize" => (
            302,
            vec![
                ("set-cookie".to_owned(), "session=secret; Path=/".to_owned()),
                ("location".to_owned(), "/done".to_owned()),
            ],
        ),
        _ => (200, Vec::new()),
    })
    .await;
    follow(&stub, "/authorize").await.expect("followed");
    let requests = stub.requests();
    assert_eq!(requests.len(), 2);
    for request in requests {
        let head = request.head;
        let lower = head.to_ascii_lowercase();
        assert!(!lower.contains("\r\ncookie:"), "{head}");
        assert!(!lower.contains("\r\nauthorization:"), "{head}");
    }
}

#[tokio::test]
async fn a_redirect_loop_ends_after_ten_redirects() {
    let stub = stub(|_, _| (302, location("/loop"))).await;
    let error = follow(&stub, "/loop?state=secret")
        .await
        .expect_err("a loop");
    assert!(
        matches!(error, BrowserError::TooManyRedirects { limit: 10, .. }),
        "{error:?}"
    );
    assert_eq!(MAX_REDIRECTS, 10);
    // The first request and ten redirects followed; the eleventh is refused.
    assert_eq!(stub.requests().len(), MAX_REDIRECTS + 1);
    assert!(!error.to_string().contains("secret"), "{error}");
}

#[tokio::test]
async fn a_redirect_to_javascript_is_refused_before_any_request() {
    let error = redirect_refused("javascript:alert(1)").await;
    let reason = refusal_reason(&error);
    assert!(
        matches!(reason, BrowserError::UnsupportedScheme { scheme } if scheme == "javascript"),
        "{reason:?}"
    );
    assert!(error.is_refused_url());
}

#[tokio::test]
async fn a_redirect_to_plain_http_elsewhere_is_refused() {
    let error = redirect_refused("http://example.com/next").await;
    let reason = refusal_reason(&error);
    assert!(
        matches!(reason, BrowserError::InsecureHttp { host } if host == "example.com"),
        "{reason:?}"
    );
}

#[tokio::test]
async fn a_bad_starting_url_sends_nothing() {
    let error = FollowBrowser::new(http())
        .open(&url("file:///etc/passwd"))
        .await
        .expect_err("refused");
    assert!(
        matches!(error, BrowserError::UnsupportedScheme { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_final_400_is_a_typed_error_with_the_url_without_its_query() {
    let stub = stub(|target, _| match target {
        "/authorize" => (302, location("/denied?state=secret")),
        _ => (400, Vec::new()),
    })
    .await;
    let error = follow(&stub, "/authorize").await.expect_err("400");
    let expected_url = stub.join("/denied").to_string();
    assert!(
        matches!(&error, BrowserError::Status { status, url } if *status == StatusCode::BAD_REQUEST && *url == expected_url),
        "{error:?}"
    );
    assert_eq!(error.status(), Some(StatusCode::BAD_REQUEST));
    assert!(!error.to_string().contains("secret"), "{error}");
}

#[tokio::test]
async fn a_redirect_without_location_is_a_typed_error() {
    let stub = stub(|_, _| (302, Vec::new())).await;
    let error = follow(&stub, "/authorize").await.expect_err("no Location");
    assert!(
        matches!(error, BrowserError::BadRedirect { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn the_callbacks_400_for_a_wrong_state_surfaces_as_an_error() {
    let callback = CallbackServer::bind(CallbackOptions::new()).expect("callback server");
    callback.expect("S");
    let redirect_uri = callback.redirect_uri();
    let stub =
        stub(move |_, _| (302, location(format!("{redirect_uri}?code=c&state=WRONG")))).await;
    let error = follow(&stub, "/authorize").await.expect_err("wrong state");
    assert_eq!(error.status(), Some(StatusCode::BAD_REQUEST), "{error:?}");
    assert!(
        callback.is_listening(),
        "a wrong state must not end the flow"
    );
}

// ---------------------------------------------------------------------------------------------
// BrowserMode

#[test]
fn modes_parse_in_any_case_and_display_their_names() {
    for (text, mode) in [
        ("system", BrowserMode::System),
        ("SYSTEM", BrowserMode::System),
        ("none", BrowserMode::None),
        ("None", BrowserMode::None),
        ("follow", BrowserMode::Follow),
        ("fOlLoW", BrowserMode::Follow),
    ] {
        assert_eq!(text.parse::<BrowserMode>().expect(text), mode);
    }
    for mode in BrowserMode::ALL {
        assert_eq!(
            mode.to_string().parse::<BrowserMode>().expect("round trip"),
            mode
        );
    }
    assert_eq!(BrowserMode::default(), BrowserMode::System);
}

#[test]
fn an_unknown_mode_lists_the_valid_values() {
    let error = "chrome".parse::<BrowserMode>().expect_err("not a mode");
    assert!(
        matches!(&error, BrowserError::UnknownMode { value } if value == "chrome"),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("\"chrome\""), "{message}");
    assert!(message.contains("system, none, follow"), "{message}");
    "".parse::<BrowserMode>().expect_err("an empty mode");
}

#[test]
fn the_env_value_unset_or_blank_means_not_chosen() {
    assert_eq!(BrowserMode::from_env_value(None).expect("unset"), None);
    assert_eq!(
        BrowserMode::from_env_value(Some(OsString::new())).expect("empty"),
        None
    );
    assert_eq!(
        BrowserMode::from_env_value(Some(" ".into())).expect("blank"),
        None
    );
}

#[test]
fn the_env_value_names_a_mode() {
    assert_eq!(
        BrowserMode::from_env_value(Some("Follow".into())).expect("valid"),
        Some(BrowserMode::Follow)
    );
    assert_eq!(
        BrowserMode::from_env_value(Some(" none\n".into())).expect("valid"),
        Some(BrowserMode::None)
    );
}

#[test]
fn an_invalid_env_value_names_the_variable_and_the_valid_values() {
    let error = BrowserMode::from_env_value(Some("firefox".into())).expect_err("not a mode");
    assert!(
        matches!(&error, BrowserError::InvalidEnv { variable: "MCPCORD_BROWSER", value } if value == "firefox"),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("MCPCORD_BROWSER"), "{message}");
    assert!(message.contains("system, none, follow"), "{message}");
}

#[cfg(unix)]
#[test]
fn a_non_utf8_env_value_is_invalid() {
    use std::os::unix::ffi::OsStringExt;
    let value = OsString::from_vec(vec![b'n', 0xff, b'e']);
    let error = BrowserMode::from_env_value(Some(value)).expect_err("not UTF-8");
    assert!(
        matches!(error, BrowserError::InvalidEnv { .. }),
        "{error:?}"
    );
}

#[test]
fn each_mode_builds_its_browser() {
    let http = http();
    assert!(format!("{:?}", BrowserMode::System.browser(&http)).starts_with("SystemBrowser"));
    assert!(format!("{:?}", BrowserMode::None.browser(&http)).starts_with("PrintBrowser"));
    assert!(format!("{:?}", BrowserMode::Follow.browser(&http)).starts_with("FollowBrowser"));
}

//! How the authorization URL reaches the user: the system browser, a printed line, or a driver
//! that follows it without a person.
//!
//! Every [`Browser`] first runs [`check_authorization_url`]: only `https` URLs, or `http` to this
//! machine, without a user name or password, are ever opened, printed or fetched. The URL comes
//! from an authorization server's metadata, so it is untrusted input.
//!
//! - [`SystemBrowser`] hands the URL to the platform's opener (`xdg-open`, `open`, `rundll32`) as
//!   one argument of a program started directly, never through a shell, so nothing in the URL is
//!   expanded or interpreted (CVE-2025-6514). The user signs in in their own browser, never in an
//!   embedded web view (RFC 8252 §8.12). The opener runs, and is reaped, on a detached thread,
//!   with the child-subreaper attribute paused, so the person's browser it leaves behind goes to
//!   init rather than to the orphan sweep.
//! - [`PrintBrowser`] prints the URL for the user to copy, for machines without a desktop.
//! - [`FollowBrowser`] fetches the URL and follows its redirects (at most [`MAX_REDIRECTS`]) until
//!   the loopback callback answers, for authorization servers that approve without a person
//!   (tests, CI, the built-in demo).
//!
//! [`BrowserMode`] names the three (`--browser`, or the `MCPCORD_BROWSER` variable).

use std::ffi::OsString;
use std::fmt;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::future::BoxFuture;
use http::{Request, StatusCode, header};
use mcp_transport::TransportError;
use mcp_transport::http::HttpClient;
use tokio::sync::oneshot;
use url::{Host, Url};

/// The most redirects [`FollowBrowser`] follows from the authorization URL to the callback.
pub const MAX_REDIRECTS: usize = 10;

/// The largest page [`FollowBrowser`] reads on any hop; the bodies are discarded.
const MAX_PAGE_BYTES: usize = 64 * 1024;

/// How long [`SystemBrowser`] waits for its opener to exit. Some openers (`xdg-open` without a
/// desktop environment) run the browser in the foreground and exit only when it closes: after
/// this long the URL counts as handed off, and the opener is still reaped when it exits.
const OPENER_GRACE: Duration = Duration::from_secs(5);

/// The valid [`BrowserMode`] names, for error messages.
const VALID_MODES: &str = "system, none, follow";

/// Presents an authorization URL to the user (or to nobody, for [`FollowBrowser`]).
///
/// Implementations must call [`check_authorization_url`] before doing anything with the URL.
///
/// ```
/// use std::io::Write;
/// use std::sync::{Arc, Mutex};
/// use mcp_oauth::{Browser, PrintBrowser};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let output = Arc::new(Mutex::new(Vec::<u8>::new()));
/// let browser = PrintBrowser::to_writer(output.clone());
/// let url = url::Url::parse("https://auth.example.com/authorize?client_id=abc")?;
/// tokio::runtime::Builder::new_current_thread()
///     .enable_all()
///     .build()?
///     .block_on(browser.open(&url))?;
/// let printed = String::from_utf8(output.lock().unwrap().clone())?;
/// assert!(printed.ends_with("https://auth.example.com/authorize?client_id=abc\n"));
///
/// // Anything but https (or http to this machine) is refused before it is shown.
/// let script = url::Url::parse("javascript:alert(1)")?;
/// # let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
/// # assert!(runtime.block_on(browser.open(&script)).is_err());
/// # Ok(())
/// # }
/// ```
pub trait Browser: Send + Sync + fmt::Debug {
    /// Presents `url`; returns once it is handed off (system), printed (none) or followed to its
    /// end (follow).
    ///
    /// # Errors
    /// [`BrowserError`]: the URL is refused by [`check_authorization_url`], or presenting it failed.
    fn open<'a>(&'a self, url: &'a Url) -> BoxFuture<'a, Result<(), BrowserError>>;
}

/// Checks that `url` may be presented to a browser: `https` anywhere, `http` only to a loopback
/// host (`127.0.0.0/8`, `::1`, `localhost`), and no user name or password. Any other scheme
/// (`javascript:`, `data:`, `file:`, `vbscript:`, ...) is refused: this is an allowlist.
///
/// Errors name the scheme or host, never the URL's query (it carries the `state`).
///
/// ```
/// use mcp_oauth::browser::check_authorization_url;
/// use url::Url;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// check_authorization_url(&Url::parse("https://auth.example.com/authorize")?)?;
/// check_authorization_url(&Url::parse("http://127.0.0.1:8080/authorize")?)?;
/// assert!(check_authorization_url(&Url::parse("http://auth.example.com/authorize")?).is_err());
/// assert!(check_authorization_url(&Url::parse("file:///etc/passwd")?).is_err());
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// [`BrowserError::UnsupportedScheme`], [`BrowserError::InsecureHttp`],
/// [`BrowserError::Credentials`], or [`BrowserError::InvalidUrl`] for an `http(s)` URL without a host.
pub fn check_authorization_url(url: &Url) -> Result<(), BrowserError> {
    let scheme = url.scheme();
    if scheme != "https" && scheme != "http" {
        return Err(BrowserError::UnsupportedScheme {
            scheme: scheme.to_owned(),
        });
    }
    let Some(host) = url.host() else {
        return Err(BrowserError::InvalidUrl {
            url: without_query(url),
            reason: "it has no host",
        });
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(BrowserError::Credentials {
            host: host.to_string(),
        });
    }
    if scheme == "http" && !is_loopback(&host) {
        return Err(BrowserError::InsecureHttp {
            host: host.to_string(),
        });
    }
    Ok(())
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
        // The URL parser has already lowercased the name.
        Host::Domain(name) => *name == "localhost",
    }
}

/// `url` without its query, fragment or user information: safe to put in an error or a log.
fn without_query(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    // Both fail only for URLs that cannot have user information, which then have none.
    let _ = url.set_password(None);
    let _ = url.set_username("");
    url.into()
}

/// Opens the URL in the user's default browser through the platform's opener program, started
/// directly (never through a shell) with the URL as one argument.
///
/// | Platform | Program and arguments |
/// |---|---|
/// | Linux and the BSDs | `xdg-open URL` |
/// | macOS | `/usr/bin/open URL` |
/// | Windows | `rundll32 url.dll,FileProtocolHandler URL` |
///
/// The opener's stdin, stdout and stderr are null. [`open`](Browser::open) waits for it to exit
/// (at most a few seconds: an opener still running by then is taken to have handed the URL
/// off) on a small thread of its own, which reaps it whenever it exits, even if the future was
/// dropped, and without needing a runtime. The future itself must be awaited on Tokio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemBrowser {
    program: PathBuf,
    leading_args: Vec<String>,
}

impl Default for SystemBrowser {
    fn default() -> Self {
        Self::new()
    }
}

impl SystemBrowser {
    /// The platform's opener (see the table above).
    pub fn new() -> Self {
        let (program, leading_args): (&str, &[&str]) = if cfg!(target_os = "windows") {
            ("rundll32", &["url.dll,FileProtocolHandler"])
        } else if cfg!(target_os = "macos") {
            ("/usr/bin/open", &[])
        } else {
            ("xdg-open", &[])
        };
        Self::with_opener(
            program,
            leading_args.iter().map(|&arg| arg.to_owned()).collect(),
        )
    }

    /// Another opener: `program` (looked up in `PATH` unless it is a path) is run with
    /// `leading_args` and then the URL, as separate arguments, without a shell. For tests and for
    /// users with an unusual desktop.
    pub fn with_opener(program: impl Into<PathBuf>, leading_args: Vec<String>) -> Self {
        Self {
            program: program.into(),
            leading_args,
        }
    }
}

impl Browser for SystemBrowser {
    fn open<'a>(&'a self, url: &'a Url) -> BoxFuture<'a, Result<(), BrowserError>> {
        Box::pin(async move {
            check_authorization_url(url)?;
            let mut args: Vec<OsString> = self.leading_args.iter().map(OsString::from).collect();
            // One argument, exactly as serialised; it starts with "http", so it cannot pass for an
            // option either.
            args.push(OsString::from(url.as_str()));
            let exited = spawn_opener(self.program.clone(), args)?;
            match tokio::time::timeout(OPENER_GRACE, exited).await {
                Ok(Ok(result)) => result,
                Ok(Err(_thread_gone)) => Err(BrowserError::Opener {
                    program: self.program.clone(),
                    source: io::Error::other("the thread running it ended unexpectedly"),
                }),
                Err(_still_running) => {
                    tracing::debug!(
                        program = %self.program.display(),
                        "browser opener still running; taking the URL as handed off"
                    );
                    Ok(())
                }
            }
        })
    }
}

/// Starts `program` with `args` on a detached thread that waits for it (so it never stays a
/// zombie) and reports how it ended.
fn spawn_opener(
    program: PathBuf,
    args: Vec<OsString>,
) -> Result<oneshot::Receiver<Result<(), BrowserError>>, BrowserError> {
    let (report, exited) = oneshot::channel();
    let thread_program = program.clone();
    std::thread::Builder::new()
        .name("browser-opener".to_owned())
        .spawn(move || {
            let result = run_opener(thread_program, &args);
            if let Err(Err(error)) = report.send(result) {
                // Nobody is waiting any more (the grace period passed, or the future was dropped).
                tracing::warn!(%error, "the browser opener failed");
            }
        })
        .map_err(|source| BrowserError::Opener { program, source })?;
    Ok(exited)
}

/// Runs the opener to its exit; blocking, so it runs on its own thread.
fn run_opener(program: PathBuf, args: &[OsString]) -> Result<(), BrowserError> {
    // The browser the opener starts is the person's, not ours: while the opener runs, a child
    // subreaper (mcpcord) is not one, so the browser goes to init when the opener exits instead of
    // to us, where the orphan sweep at exit would kill it.
    let _not_ours = mcp_transport::stdio::pause_subreaper();
    let spawned = Command::new(&program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Err(BrowserError::OpenerNotFound { program });
        }
        Err(source) => return Err(BrowserError::Opener { program, source }),
    };
    match child.wait() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(BrowserError::OpenerFailed { program, status }),
        Err(source) => Err(BrowserError::Opener { program, source }),
    }
}

/// Prints the URL for the user to open: one line on stderr (or a chosen writer),
/// `Open this URL in a browser to authorize: URL`.
///
/// The URL is printed as serialised: the URL parser has percent-encoded every control
/// character, so it cannot move the cursor or recolour the terminal.
#[derive(Clone, Default)]
pub struct PrintBrowser {
    /// `None` for stderr.
    writer: Option<Arc<Mutex<dyn Write + Send>>>,
}

impl fmt::Debug for PrintBrowser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let to = if self.writer.is_some() {
            "writer"
        } else {
            "stderr"
        };
        f.debug_struct("PrintBrowser").field("to", &to).finish()
    }
}

impl PrintBrowser {
    /// Prints to stderr.
    pub fn new() -> Self {
        Self::default()
    }

    /// Prints to `writer` instead of stderr (for tests, or a UI that shows the line elsewhere).
    pub fn to_writer(writer: Arc<Mutex<dyn Write + Send>>) -> Self {
        Self {
            writer: Some(writer),
        }
    }
}

impl Browser for PrintBrowser {
    fn open<'a>(&'a self, url: &'a Url) -> BoxFuture<'a, Result<(), BrowserError>> {
        Box::pin(async move {
            check_authorization_url(url)?;
            let line = format!("Open this URL in a browser to authorize: {url}\n");
            let written = match &self.writer {
                Some(writer) => {
                    let mut writer = writer.lock().unwrap_or_else(PoisonError::into_inner);
                    writer
                        .write_all(line.as_bytes())
                        .and_then(|()| writer.flush())
                }
                None => {
                    let mut stderr = io::stderr().lock();
                    stderr
                        .write_all(line.as_bytes())
                        .and_then(|()| stderr.flush())
                }
            };
            written.map_err(|source| BrowserError::Print { source })
        })
    }
}

/// Follows the authorization URL with our HTTP client, as a browser would without a person: GET,
/// then each redirect (301, 302, 303, 307, 308; `Location` resolved against the current URL), at
/// most [`MAX_REDIRECTS`], until a 2xx page (the loopback callback's) ends it.
///
/// For authorization servers that approve without a person (tests, CI, the built-in demo). Every
/// hop is checked like the first URL ([`check_authorization_url`]) before it is requested. No
/// cookies, credentials or `Authorization` headers are ever sent, and each body is read up to
/// 64 KiB and discarded. Same-origin 307/308 redirects are followed inside [`HttpClient`] itself;
/// being same-origin, they cannot change the scheme or host.
#[derive(Debug, Clone)]
pub struct FollowBrowser {
    http: HttpClient,
}

impl FollowBrowser {
    /// Follows URLs with `http`.
    pub fn new(http: HttpClient) -> Self {
        Self { http }
    }
}

impl Browser for FollowBrowser {
    fn open<'a>(&'a self, url: &'a Url) -> BoxFuture<'a, Result<(), BrowserError>> {
        Box::pin(follow(&self.http, url))
    }
}

async fn follow(http: &HttpClient, start: &Url) -> Result<(), BrowserError> {
    check_authorization_url(start)?;
    let mut current = start.clone();
    let mut redirects = 0;
    loop {
        let response = http
            .fetch(get_request(&current)?, MAX_PAGE_BYTES)
            .await
            .map_err(|source| BrowserError::Request {
                url: without_query(&current),
                source,
            })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        if !is_followed_redirect(status) {
            return Err(BrowserError::Status {
                status,
                url: without_query(&current),
            });
        }
        if redirects == MAX_REDIRECTS {
            return Err(BrowserError::TooManyRedirects {
                limit: MAX_REDIRECTS,
                url: without_query(&current),
            });
        }
        let next = redirect_target(&current, status, response.headers())?;
        check_authorization_url(&next).map_err(|reason| BrowserError::RedirectRefused {
            from: without_query(&current),
            reason: Box::new(reason),
        })?;
        tracing::debug!(%status, to = %without_query(&next), "following an authorization redirect");
        redirects += 1;
        current = next;
    }
}

fn is_followed_redirect(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::MOVED_PERMANENTLY
            | StatusCode::FOUND
            | StatusCode::SEE_OTHER
            | StatusCode::TEMPORARY_REDIRECT
            | StatusCode::PERMANENT_REDIRECT
    )
}

/// A bare GET: no cookies, no credentials, no fragment (browsers never send it either).
fn get_request(url: &Url) -> Result<Request<Vec<u8>>, BrowserError> {
    let mut target = url.clone();
    target.set_fragment(None);
    let invalid = || BrowserError::InvalidUrl {
        url: without_query(url),
        reason: "it cannot be sent as an HTTP request",
    };
    let uri = http::Uri::try_from(target.as_str()).map_err(|_| invalid())?;
    Request::get(uri).body(Vec::new()).map_err(|_| invalid())
}

fn redirect_target(
    current: &Url,
    status: StatusCode,
    headers: &http::HeaderMap,
) -> Result<Url, BrowserError> {
    let bad = |reason| BrowserError::BadRedirect {
        status,
        url: without_query(current),
        reason,
    };
    let location = headers
        .get(header::LOCATION)
        .ok_or_else(|| bad("it has no Location header"))?
        .to_str()
        .map_err(|_| bad("its Location header is not plain text"))?;
    current
        .join(location)
        .map_err(|_| bad("its Location header is not a valid URL"))
}

/// How the authorization URL is presented: the value of `--browser` and of `MCPCORD_BROWSER`.
///
/// ```
/// use mcp_oauth::BrowserMode;
///
/// assert_eq!("Follow".parse::<BrowserMode>().unwrap(), BrowserMode::Follow);
/// assert_eq!(BrowserMode::None.to_string(), "none");
/// let error = "chrome".parse::<BrowserMode>().unwrap_err();
/// assert!(error.to_string().contains("system, none, follow"));
/// // An unset or empty variable means "not chosen".
/// assert_eq!(BrowserMode::from_env_value(None).unwrap(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BrowserMode {
    /// The user's default browser, through the platform opener ([`SystemBrowser`]). The default.
    #[default]
    System,
    /// Print the URL for the user to open ([`PrintBrowser`]).
    None,
    /// Follow the URL without a person ([`FollowBrowser`]).
    Follow,
}

impl BrowserMode {
    /// The environment variable [`from_env`](Self::from_env) reads.
    pub const ENV: &'static str = "MCPCORD_BROWSER";

    /// Every mode, in the order they are listed in messages.
    pub const ALL: [Self; 3] = [Self::System, Self::None, Self::Follow];

    /// The mode's name: `system`, `none` or `follow`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::None => "none",
            Self::Follow => "follow",
        }
    }

    /// The mode chosen by the [`ENV`](Self::ENV) variable; `None` when it is unset or empty.
    ///
    /// # Errors
    /// [`BrowserError::InvalidEnv`] when it holds anything else than a mode name.
    pub fn from_env() -> Result<Option<Self>, BrowserError> {
        Self::from_env_value(std::env::var_os(Self::ENV))
    }

    /// What [`from_env`](Self::from_env) makes of `value`, the variable's value if it is set:
    /// `None` for unset, empty or blank; otherwise a mode name in any case, spaces around allowed.
    ///
    /// # Errors
    /// [`BrowserError::InvalidEnv`] for anything else, non-UTF-8 included.
    pub fn from_env_value(value: Option<OsString>) -> Result<Option<Self>, BrowserError> {
        let Some(value) = value else {
            return Ok(None);
        };
        let invalid = || BrowserError::InvalidEnv {
            variable: Self::ENV,
            value: value.to_string_lossy().into_owned(),
        };
        let text = value.to_str().ok_or_else(invalid)?.trim();
        if text.is_empty() {
            return Ok(None);
        }
        text.parse().map(Some).map_err(|_| invalid())
    }

    /// The browser for this mode; [`Follow`](Self::Follow) sends its requests with `http`.
    pub fn browser(self, http: &HttpClient) -> Arc<dyn Browser> {
        match self {
            Self::System => Arc::new(SystemBrowser::new()),
            Self::None => Arc::new(PrintBrowser::new()),
            Self::Follow => Arc::new(FollowBrowser::new(http.clone())),
        }
    }
}

impl FromStr for BrowserMode {
    type Err = BrowserError;

    /// Parses `system`, `none` or `follow`, in any case.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|mode| mode.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| BrowserError::UnknownMode {
                value: text.to_owned(),
            })
    }
}

impl fmt::Display for BrowserMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an authorization URL was refused or could not be presented.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BrowserError {
    /// The URL's scheme is not `https` or `http` (for example `javascript:` or `file:`).
    #[error(
        "refusing to open an authorization URL with the {scheme:?} scheme; only https \
         (or http to this machine) is allowed"
    )]
    UnsupportedScheme {
        /// The scheme, lowercased.
        scheme: String,
    },
    /// The URL is plain `http` to a host other than this machine.
    #[error(
        "refusing to open a plain http authorization URL on {host}; http is allowed only for \
         127.0.0.1, ::1 and localhost, so the authorization server must use https"
    )]
    InsecureHttp {
        /// The host.
        host: String,
    },
    /// The URL carries a user name or password.
    #[error("refusing to open an authorization URL on {host} that carries a user name or password")]
    Credentials {
        /// The host.
        host: String,
    },
    /// An `http(s)` URL that cannot be used.
    #[error("cannot use the authorization URL {url}: {reason}")]
    InvalidUrl {
        /// The URL without its query.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The opener program does not exist.
    #[error(
        "the browser opener {} was not found; install it (xdg-utils on Linux), or use \
         --browser none (or MCPCORD_BROWSER=none) and open the printed URL yourself",
        .program.display()
    )]
    OpenerNotFound {
        /// The program.
        program: PathBuf,
    },
    /// The opener could not be started or waited for.
    #[error(
        "could not run the browser opener {}: {source}; use --browser none (or \
         MCPCORD_BROWSER=none) and open the printed URL yourself",
        .program.display()
    )]
    Opener {
        /// The program.
        program: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The opener exited unsuccessfully.
    #[error(
        "the browser opener {} failed ({status}); use --browser none (or MCPCORD_BROWSER=none) \
         and open the printed URL yourself",
        .program.display()
    )]
    OpenerFailed {
        /// The program.
        program: PathBuf,
        /// How it exited.
        status: ExitStatus,
    },
    /// Printing the URL failed.
    #[error("could not print the authorization URL: {source}")]
    Print {
        /// The write error.
        #[source]
        source: io::Error,
    },
    /// A request while following the URL failed.
    #[error("following the authorization URL: the request to {url} failed: {source}")]
    Request {
        /// The URL requested, without its query.
        url: String,
        /// The transport's error.
        #[source]
        source: TransportError,
    },
    /// A page answered with a status that is neither a success nor a followed redirect.
    #[error("following the authorization URL: {url} answered {status}")]
    Status {
        /// The status.
        status: StatusCode,
        /// The URL that answered, without its query.
        url: String,
    },
    /// A redirect that cannot be followed.
    #[error(
        "following the authorization URL: the {status} redirect from {url} is unusable: {reason}"
    )]
    BadRedirect {
        /// The redirect's status.
        status: StatusCode,
        /// The URL that answered, without its query.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A redirect led to a URL that [`check_authorization_url`] refuses.
    #[error("following the authorization URL: {from} redirected to a refused URL: {reason}")]
    RedirectRefused {
        /// The URL that redirected, without its query.
        from: String,
        /// Why the target was refused.
        #[source]
        reason: Box<BrowserError>,
    },
    /// The redirects did not end within [`MAX_REDIRECTS`].
    #[error(
        "following the authorization URL: still redirected after {limit} redirects, last from {url}"
    )]
    TooManyRedirects {
        /// The limit, [`MAX_REDIRECTS`].
        limit: usize,
        /// The URL that sent the redirect over the limit, without its query.
        url: String,
    },
    /// Not a browser mode name.
    #[error("unknown browser mode {value:?}; use one of: {VALID_MODES}")]
    UnknownMode {
        /// The text given.
        value: String,
    },
    /// The environment variable holds something else than a browser mode name.
    #[error("{variable}={value:?} is not a browser mode; use one of: {VALID_MODES}")]
    InvalidEnv {
        /// The variable, [`BrowserMode::ENV`].
        variable: &'static str,
        /// Its value (lossily converted to UTF-8).
        value: String,
    },
}

impl BrowserError {
    /// True when the URL (or a redirect's target) was refused by [`check_authorization_url`].
    pub fn is_refused_url(&self) -> bool {
        matches!(
            self,
            Self::UnsupportedScheme { .. }
                | Self::InsecureHttp { .. }
                | Self::Credentials { .. }
                | Self::RedirectRefused { .. }
        )
    }

    /// True when the platform's opener program is missing: `--browser none` is the way out.
    pub fn is_opener_missing(&self) -> bool {
        matches!(self, Self::OpenerNotFound { .. })
    }

    /// The HTTP status that ended a [`FollowBrowser`] run, if one did.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Status { status, .. } | Self::BadRedirect { status, .. } => Some(*status),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;

//! Live feedback on a terminal: a spinner naming what a connect (or login) waits for, a progress
//! bar for a call whose server reports progress, a progress display for `bench`, and the servers'
//! log messages as one line each.
//!
//! All of it goes to stderr, and the bars only when stderr is a terminal and neither `--json` nor
//! `--quiet` is given: stdout carries the command's result and nothing else. The bars are drawn by
//! `indicatif` through one process-wide [`MultiProgress`]; every other write to stderr while one
//! may be drawn (tracing's lines, server log lines, the login URL) goes through it
//! ([`eprint_line`], [`stderr`]), which clears the bars, writes, and draws them again, so that no
//! line is torn or overwritten. Off a terminal the `MultiProgress` is hidden: the same calls then
//! only write the lines.
//!
//! Server log lines are shown at `info` and above by default (`-vv`: `debug` too; `--quiet`:
//! `error` and above), on a terminal or not, named by their server and passed through
//! `render::shown` (no control characters, bounded), never as a `Debug` dump.

use std::collections::HashMap;
use std::io::{self, IsTerminal, Write};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use mcp_manager::config::ServerConfig;
use mcp_manager::oauth::browser::BrowserError;
use mcp_manager::oauth::{Browser, BrowserMode, PrintBrowser};
use mcp_manager::transport::HttpClient;
use mcp_manager::{Manager, ManagerEvent, Url};
use serde_json::Value;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use crate::Cli;
use crate::render::{one_line, progress_number};
use crate::requests::LEVELS;

/// How often the spinners turn.
const TICK: Duration = Duration::from_millis(100);

/// How often the spinners' texts (their clocks, the login state) are brought up to date.
const TEXT_TICK: Duration = Duration::from_millis(250);

/// Scheduler turns given, after a command's work, to notifications received but not yet published.
const SETTLE_TURNS: usize = 8;

/// The one display on stderr. Process-wide because stderr is: every writer to it must know
/// whether a bar is drawn there.
static DISPLAY: OnceLock<MultiProgress> = OnceLock::new();

/// The least severe server log messages shown (see [`level_rank`]); set once by [`init`].
static LOG_THRESHOLD: OnceLock<u8> = OnceLock::new();

/// When the login in progress (if any) handed its URL to the browser, and how long it may take.
static LOGIN: Mutex<Option<(Instant, Duration)>> = Mutex::new(None);

/// Chooses, once, before anything is written: bars on stderr only when it is a terminal and
/// neither `--json` nor `--quiet` asks for quiet output.
pub(crate) fn init(cli: &Cli) {
    let on = std::io::stderr().is_terminal() && !cli.json && !cli.quiet;
    let target = if on {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let _ = DISPLAY.set(MultiProgress::with_draw_target(target));
    let threshold = match (cli.quiet, cli.verbose) {
        (true, _) => level_rank("error"),
        (false, 0 | 1) => level_rank("info"),
        (false, _) => level_rank("debug"),
    };
    let _ = LOG_THRESHOLD.set(threshold);
}

fn display() -> &'static MultiProgress {
    DISPLAY.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::hidden()))
}

/// Whether bars are drawn.
fn is_on() -> bool {
    !display().is_hidden()
}

/// Clears every bar from the screen (before a last message, on a stop signal).
pub(crate) fn clear() {
    let _ = display().clear();
}

/// The most held back while a prompt is open (see [`hide_bars`]); past it, lines are dropped.
const MAX_HELD: usize = 256 * 1024;

/// What was written to stderr while a prompt held the screen, to be written once it is gone;
/// `None` when no prompt is open.
static HELD: Mutex<Option<Vec<u8>>> = Mutex::new(None);

/// Writes `bytes` to stderr without tearing a bar being drawn, or holds them back while a prompt
/// is open.
fn write_or_hold(bytes: &[u8]) -> io::Result<()> {
    {
        let mut held = HELD.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(held) = held.as_mut() {
            if held.len() + bytes.len() <= MAX_HELD {
                held.extend_from_slice(bytes);
            }
            return Ok(());
        }
    }
    display().suspend(|| io::stderr().lock().write_all(bytes))
}

/// Writes what was held back while a prompt was open, and stops holding. On `mcpcord`'s exit too,
/// in case a prompt was still open.
pub(crate) fn release_held() {
    let held = HELD.lock().unwrap_or_else(PoisonError::into_inner).take();
    if let Some(bytes) = held.filter(|bytes| !bytes.is_empty()) {
        let _ = display().suspend(|| io::stderr().lock().write_all(&bytes));
    }
}

/// Writes one line to stderr without tearing a bar being drawn (or a prompt: see [`hide_bars`]).
/// A failed write is ignored: stderr may be a terminal that has gone away.
pub(crate) fn eprint_line(line: &str) {
    let _ = write_or_hold(format!("{line}\n").as_bytes());
}

/// Takes the bars off the screen while a person answers a prompt there (an elicitation form,
/// `client_side::form`), so that no tick draws over it, and holds back every other line for
/// stderr (server logs, notes, tracing), which would tear the form; when the guard drops, the
/// held lines are written and the bars drawn again. Not `suspend`: that would block every other
/// writer to stderr until the person is done.
pub(crate) fn hide_bars() -> BarsHidden {
    let shown = is_on();
    if shown {
        let _ = display().clear();
        display().set_draw_target(ProgressDrawTarget::hidden());
    }
    *HELD.lock().unwrap_or_else(PoisonError::into_inner) = Some(Vec::new());
    BarsHidden { shown }
}

/// Writes what was held back and draws the bars again, if [`hide_bars`] hid them.
#[derive(Debug)]
#[must_use = "the bars come back when this is dropped"]
pub(crate) struct BarsHidden {
    shown: bool,
}

impl Drop for BarsHidden {
    fn drop(&mut self) {
        release_held();
        if self.shown {
            display().set_draw_target(ProgressDrawTarget::stderr());
        }
    }
}

/// stderr, written with the bars cleared (tracing's writer, the login URL's).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stderr;

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        write_or_hold(buf).map(|()| buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

/// [`Stderr`], as tracing's `MakeWriter` takes it.
pub(crate) fn stderr() -> Stderr {
    Stderr
}

/// A bar on the display, cleared when dropped: a command that ends, fails or is stopped never
/// leaves a stale bar on the screen.
struct Bar(ProgressBar);

impl Bar {
    fn new(bar: ProgressBar, template: &str) -> Self {
        // The templates are constants; a bad one would show the default style, not fail.
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        let bar = display().add(bar);
        if is_on() {
            bar.enable_steady_tick(TICK);
        }
        Self(bar)
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// A level's severity; an unknown level counts as `info`, so it is shown by default.
fn level_rank(level: &str) -> u8 {
    LEVELS
        .iter()
        .position(|(known, _)| known.eq_ignore_ascii_case(level))
        .map_or(1, |rank| rank as u8)
}

/// A log message's data as one line of text: a string as it is, anything else as compact JSON.
/// The caller sanitises it.
pub(crate) fn log_text(data: &Value) -> String {
    match data {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A server log message as people read it: `SERVER: LEVEL: TEXT`, or `SERVER: LEVEL LOGGER:
/// TEXT` when the server named its logger.
pub(crate) fn log_line(server: &str, level: &str, logger: Option<&str>, data: &Value) -> String {
    let logger = logger.map_or_else(String::new, |logger| format!(" {}", one_line(logger)));
    format!(
        "{}: {}{logger}: {}",
        one_line(server),
        one_line(level),
        one_line(&log_text(data))
    )
}

/// Shows the servers' log messages on stderr (when `show`) while `work` runs, and those that
/// arrived before it ended.
pub(crate) async fn with_server_logs<T>(
    manager: &Manager,
    show: bool,
    work: impl Future<Output = T>,
) -> T {
    let (true, Some(&threshold)) = (show, LOG_THRESHOLD.get()) else {
        return work.await;
    };
    let mut events = manager.events();
    let shown = async {
        loop {
            match events.recv().await {
                Ok(event) => show_log(&event, threshold),
                Err(RecvError::Lagged(missed)) => {
                    eprint_line(&format!("mcpcord: {missed} server messages were not shown"));
                }
                Err(RecvError::Closed) => std::future::pending::<()>().await,
            }
        }
    };
    let outcome = tokio::select! {
        outcome = work => outcome,
        never = shown => match never {},
    };
    // A message sent just before the answer that ended the work is shown too. rmcp hands each
    // notification to a task of its own, which may run after the answer was taken: a few turns
    // of the scheduler let those already received be published (no waiting for more).
    for _ in 0..SETTLE_TURNS {
        tokio::task::yield_now().await;
        loop {
            match events.try_recv() {
                Ok(event) => show_log(&event, threshold),
                Err(TryRecvError::Lagged(_)) => {}
                Err(_) => break,
            }
        }
    }
    outcome
}

fn show_log(event: &ManagerEvent, threshold: u8) {
    if let ManagerEvent::Log {
        server,
        level,
        logger,
        data,
    } = event
        && level_rank(level) >= threshold
    {
        eprint_line(&log_line(server, level, logger.as_deref(), data));
    }
}

/// What one server's connect waits for, shown as a spinner.
struct Wait {
    bar: Bar,
    name: String,
    /// The limit on one attempt, when known (the server's configuration).
    timeout: Option<Duration>,
    /// Attempts in all, when known.
    attempts: Option<u32>,
    attempt: u32,
    /// When the current attempt (or retry delay) started.
    since: Instant,
    /// The delay before the next attempt, while one is waited for.
    retry_in: Option<Duration>,
}

impl Wait {
    fn message(&self) -> String {
        let elapsed = self.since.elapsed();
        let of = |limit: Option<Duration>| {
            limit.map_or_else(
                || format!(", {} s", elapsed.as_secs()),
                |limit| format!(", {} s of {} s", elapsed.as_secs(), limit.as_secs()),
            )
        };
        let attempt = match self.attempts {
            _ if self.attempt <= 1 => String::new(),
            Some(attempts) => format!(" (attempt {} of {attempts})", self.attempt),
            None => format!(" (attempt {})", self.attempt),
        };
        let login = *LOGIN.lock().unwrap_or_else(PoisonError::into_inner);
        let what = match (self.retry_in, login) {
            (Some(delay), _) => format!(
                "attempt {} failed; retrying in {} s",
                self.attempt,
                delay.saturating_sub(elapsed).as_secs() + 1
            ),
            (None, Some((started, limit))) => format!(
                "waiting for the login in the browser, {} s of {} s",
                started.elapsed().as_secs(),
                limit.as_secs()
            ),
            (None, None) => format!("waiting for initialize{}", of(self.timeout)),
        };
        format!("connecting to {}{attempt}: {what}", one_line(&self.name))
    }
}

/// Runs `work` (connecting to `servers`) with a spinner per server on a terminal saying what it
/// waits for ("connecting to NAME: waiting for initialize, 12 s of 30 s"), and a lasting line for
/// each retry, fallback or missing login. Off a terminal it only runs `work`.
pub(crate) async fn connecting<'a, T>(
    manager: &Manager,
    servers: impl IntoIterator<Item = (&'a String, &'a ServerConfig)>,
    work: impl Future<Output = T>,
) -> T {
    if !is_on() {
        return work.await;
    }
    let known: HashMap<&str, (Duration, u32)> = servers
        .into_iter()
        .map(|(name, config)| {
            (
                name.as_str(),
                (config.connect_timeout, config.retry.max_attempts()),
            )
        })
        .collect();
    let mut events = manager.events();
    let mut waits: HashMap<String, Wait> = HashMap::new();
    let shown = async {
        let mut tick = tokio::time::interval(TEXT_TICK);
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Ok(event) => on_connect_event(event, &known, &mut waits),
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => std::future::pending::<()>().await,
                },
                _ = tick.tick() => {}
            }
            for wait in waits.values() {
                wait.bar.0.set_message(wait.message());
            }
        }
    };
    tokio::select! {
        outcome = work => outcome,
        never = shown => match never {},
    }
}

fn on_connect_event(
    event: ManagerEvent,
    known: &HashMap<&str, (Duration, u32)>,
    waits: &mut HashMap<String, Wait>,
) {
    match event {
        ManagerEvent::Connecting { server, attempt } => {
            let (timeout, attempts) = known
                .get(server.as_str())
                .map_or((None, None), |&(timeout, attempts)| {
                    (Some(timeout), Some(attempts))
                });
            let wait = waits.entry(server.clone()).or_insert_with(|| Wait {
                bar: Bar::new(ProgressBar::new_spinner(), "{spinner} {msg}"),
                name: server,
                timeout,
                attempts,
                attempt,
                since: Instant::now(),
                retry_in: None,
            });
            wait.attempt = attempt;
            wait.since = Instant::now();
            wait.retry_in = None;
        }
        ManagerEvent::Retrying {
            server,
            delay,
            cause,
            ..
        } => {
            eprint_line(&format!(
                "  {}: {}; retrying in {}",
                one_line(&server),
                one_line(&cause),
                humantime::format_duration(delay)
            ));
            if let Some(wait) = waits.get_mut(&server) {
                wait.since = Instant::now();
                wait.retry_in = Some(delay);
            }
        }
        ManagerEvent::Ready { server, .. } | ManagerEvent::Failed { server, .. } => {
            waits.remove(&server);
            clear_login();
        }
        ManagerEvent::AuthRequired { server, .. } => {
            eprint_line(&format!(
                "  {}: needs a login (mcpcord login {})",
                one_line(&server),
                one_line(&server)
            ));
        }
        ManagerEvent::TransportFallback {
            server,
            transport,
            reason,
            ..
        } => {
            eprint_line(&format!(
                "  {}: not streamable HTTP ({}); using {transport}",
                one_line(&server),
                one_line(&reason)
            ));
        }
        _ => {}
    }
}

fn clear_login() {
    *LOGIN.lock().unwrap_or_else(PoisonError::into_inner) = None;
}

/// Runs `work` (a login to `name`) with a spinner on a terminal saying what it waits for: the
/// authorization server, then the person in the browser ("12 s of 300 s").
pub(crate) async fn logging_in<T>(name: &str, work: impl Future<Output = T>) -> T {
    if !is_on() {
        return work.await;
    }
    let bar = Bar::new(ProgressBar::new_spinner(), "{spinner} {msg}");
    let name = one_line(name);
    let message = || {
        let login = *LOGIN.lock().unwrap_or_else(PoisonError::into_inner);
        match login {
            Some((started, limit)) => format!(
                "logging in to {name}: waiting for the login in the browser, {} s of {} s",
                started.elapsed().as_secs(),
                limit.as_secs()
            ),
            None => format!("logging in to {name}: asking its authorization server"),
        }
    };
    bar.0.set_message(message());
    let shown = async {
        let mut tick = tokio::time::interval(TEXT_TICK);
        loop {
            tick.tick().await;
            bar.0.set_message(message());
        }
    };
    let outcome = tokio::select! {
        outcome = work => outcome,
        never = shown => match never {},
    };
    clear_login();
    outcome
}

/// The browser a login is presented with, telling the spinner that a login is being waited for;
/// the URL printed for `--browser none` is written with the bars cleared.
pub(crate) fn browser(mode: BrowserMode, http: &HttpClient, limit: Duration) -> Arc<dyn Browser> {
    let inner = match mode {
        BrowserMode::None => {
            let writer: Arc<Mutex<dyn Write + Send>> = Arc::new(Mutex::new(Stderr));
            Arc::new(PrintBrowser::to_writer(writer))
        }
        other => other.browser(http),
    };
    Arc::new(LoginBrowser { inner, limit })
}

/// A browser that marks the start of the login it presents.
#[derive(Debug)]
struct LoginBrowser {
    inner: Arc<dyn Browser>,
    limit: Duration,
}

impl Browser for LoginBrowser {
    fn open<'a>(&'a self, url: &'a Url) -> BoxFuture<'a, Result<(), BrowserError>> {
        *LOGIN.lock().unwrap_or_else(PoisonError::into_inner) = Some((Instant::now(), self.limit));
        self.inner.open(url)
    }
}

/// Runs `work` (a request to `server`) with a progress bar on a terminal once the server reports
/// progress: `[=====>    ] 3 of 5 MESSAGE`, or a spinner with the count when it gives no total.
pub(crate) async fn with_call_progress<T>(
    manager: &Manager,
    server: &str,
    what: &str,
    work: impl Future<Output = T>,
) -> T {
    if !is_on() {
        return work.await;
    }
    let mut events = manager.events();
    let mut bar: Option<Bar> = None;
    let what = one_line(what);
    let shown = async {
        loop {
            match events.recv().await {
                Ok(ManagerEvent::Progress {
                    server: from,
                    progress,
                    total,
                    message,
                }) if from == server => {
                    show_progress(&mut bar, &what, progress, total, message.as_deref());
                }
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => std::future::pending::<()>().await,
            }
        }
    };
    tokio::select! {
        outcome = work => outcome,
        never = shown => match never {},
    }
}

/// Steps of a bar whose server reports fractions: fine enough for any terminal's width.
const STEPS: u64 = 1_000;

fn show_progress(
    bar: &mut Option<Bar>,
    what: &str,
    progress: f64,
    total: Option<f64>,
    message: Option<&str>,
) {
    let message = message.map_or_else(String::new, |message| format!(" {}", one_line(message)));
    match total.filter(|total| total.is_finite() && *total > 0.0) {
        Some(total) => {
            let bar = bar.get_or_insert_with(|| {
                Bar::new(
                    ProgressBar::new(STEPS),
                    "{spinner} {prefix} [{bar:30}] {msg}",
                )
            });
            bar.0.set_prefix(what.to_owned());
            let fraction = (progress / total).clamp(0.0, 1.0);
            bar.0.set_position((fraction * STEPS as f64).round() as u64);
            bar.0.set_message(format!(
                "{} of {}{message}",
                progress_number(progress),
                progress_number(total)
            ));
        }
        None => {
            let bar = bar.get_or_insert_with(|| {
                Bar::new(ProgressBar::new_spinner(), "{spinner} {prefix} {msg}")
            });
            bar.0.set_prefix(what.to_owned());
            bar.0
                .set_message(format!("{} so far{message}", progress_number(progress)));
        }
    }
}

/// `bench`'s display: the sessions connected, then the calls made, as bars on a terminal.
pub(crate) struct BenchDisplay {
    connects: Option<Bar>,
    calls: Option<Bar>,
    total_calls: u64,
}

impl BenchDisplay {
    /// Starts with the connects (`sessions` of them), to be followed by `sessions * calls` calls.
    pub(crate) fn start(sessions: usize, calls: usize) -> Self {
        let connects = Bar::new(
            ProgressBar::new(sessions as u64),
            "{spinner} bench: sessions connected [{bar:30}] {pos}/{len}",
        );
        // Drawn now, not at the first tick: even a short wait is seen.
        connects.0.tick();
        Self {
            connects: Some(connects),
            calls: None,
            total_calls: (sessions as u64).saturating_mul(calls as u64),
        }
    }

    /// One more session connected (or failed to).
    pub(crate) fn connected(&self) {
        if let Some(bar) = &self.connects {
            bar.0.inc(1);
        }
    }

    /// The connects are over: the bar for the calls, for each session's task to count its calls
    /// on (`inc(1)`); a hidden one off a terminal.
    pub(crate) fn calling(&mut self) -> ProgressBar {
        self.connects = None;
        let bar = Bar::new(
            ProgressBar::new(self.total_calls),
            "{spinner} bench: calls [{bar:30}] {pos}/{len} ({elapsed})",
        );
        let counter = bar.0.clone();
        self.calls = Some(bar);
        counter
    }

    /// Clears the bars, before the report is printed.
    pub(crate) fn finish(&mut self) {
        self.connects = None;
        self.calls = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn log_lines_are_one_line_named_by_the_server_without_control_characters() {
        let line = log_line(
            "fs",
            "warning",
            Some("io"),
            &json!("disk\u{1b}[2J almost\r\nfull"),
        );
        assert_eq!(line, "fs: warning io: disk [2J almost  full");
        assert_eq!(
            log_line("fs", "info", None, &json!({"free": 3})),
            r#"fs: info: {"free":3}"#
        );
    }

    #[test]
    fn lines_are_held_back_while_a_prompt_is_open_and_released_after() {
        let hidden = hide_bars();
        eprint_line("a server's log line");
        let _ = Stderr.write(b"a tracing line\n");
        let held = HELD.lock().unwrap_or_else(PoisonError::into_inner).clone();
        assert_eq!(
            held.as_deref(),
            Some(&b"a server's log line\na tracing line\n"[..])
        );
        drop(hidden);
        assert!(
            HELD.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .is_none()
        );
    }

    #[test]
    fn levels_rank_by_severity_and_unknown_ones_count_as_info() {
        assert!(level_rank("debug") < level_rank("info"));
        assert!(level_rank("info") < level_rank("Warning"));
        assert!(level_rank("error") < level_rank("emergency"));
        assert_eq!(level_rank("chatty"), level_rank("info"));
    }
}

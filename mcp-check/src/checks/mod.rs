//! The checks, by area, and the context they run in: the session, the `--only` filter, and the
//! results so far.

mod http;
mod jsonrpc;
mod lifecycle;
mod modern;
mod perf;
mod prompts;
mod resources;
mod stdio;
mod tools;

use std::time::Duration;

use mcp_transport::{HttpClient, HttpOptions};
use serde_json::Value;

use crate::report::{Check, CheckResult, Level, Status};
use crate::session::{Era, Listed, Session};
use crate::wire::{Exchange, Target, WireError, excerpt};

/// Every check, in the order a run reports them.
pub fn catalogue() -> Vec<Check> {
    [
        lifecycle::CATALOGUE,
        jsonrpc::CATALOGUE,
        tools::CATALOGUE,
        resources::CATALOGUE,
        prompts::CATALOGUE,
        modern::CATALOGUE,
        http::CATALOGUE,
        stdio::CATALOGUE,
        perf::CATALOGUE,
    ]
    .concat()
}

/// Why a check of the conformance suite's fixture (a `test_*` tool or prompt, a `test://`
/// resource) is skipped. A server's own tools are never called: they may act on the world.
pub(crate) const NO_FIXTURE: &str = "the server does not list the conformance suite's fixture this \
     check uses (a test_* tool or prompt, a test:// resource); a server's own tools are never called";

/// Why a 2026-07-28 check is skipped in a 2025-11-25 run.
pub(crate) const NOT_THIS_REVISION_2026: &str =
    "a 2026-07-28 requirement; this run checks 2025-11-25";

/// What a check found.
#[derive(Debug)]
pub(crate) enum Outcome {
    Pass(Option<String>),
    Fail(Failure),
    Skip(String),
}

/// Why a check failed, with the exchange that shows it.
#[derive(Debug)]
pub(crate) struct Failure {
    why: String,
    sent: Option<String>,
    received: Option<String>,
}

impl Failure {
    /// A failure with no single exchange to show.
    pub(crate) fn because(why: impl Into<String>) -> Self {
        Failure {
            why: why.into(),
            sent: None,
            received: None,
        }
    }
}

impl Outcome {
    pub(crate) fn pass() -> Self {
        Outcome::Pass(None)
    }

    /// A failure shown by `exchange`.
    pub(crate) fn fail(why: impl Into<String>, exchange: &Exchange) -> Self {
        Outcome::Fail(Failure {
            why: why.into(),
            sent: Some(excerpt(&exchange.sent)),
            received: Some(exchange.received_excerpt()),
        })
    }

    /// A failure with no single exchange to show.
    pub(crate) fn fail_because(why: impl Into<String>) -> Self {
        Outcome::Fail(Failure::because(why))
    }

    /// The failure of a request that got no answer at all.
    pub(crate) fn no_answer(method: &str, error: &WireError) -> Self {
        Outcome::fail_because(format!("{method}: {error}"))
    }

    /// `Pass` when `problems` is empty, else a failure listing them, shown by `exchange`.
    pub(crate) fn from_problems(problems: &[String], exchange: &Exchange) -> Self {
        if problems.is_empty() {
            Outcome::pass()
        } else {
            Outcome::fail(problems.join("; "), exchange)
        }
    }
}

/// Which revision to check against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpecChoice {
    /// The newest the server speaks: 2026-07-28 if it answers `server/discover`, else 2025-11-25.
    #[default]
    Auto,
    /// 2025-11-25 (`initialize` and sessions).
    Legacy,
    /// 2026-07-28 (`server/discover`, stateless).
    Modern,
}

/// How a run goes.
#[derive(Debug, Clone)]
pub struct Options {
    /// The revision.
    pub spec: SpecChoice,
    /// Run only checks whose id or scenario matches one of these (`*` is a wildcard; a pattern
    /// without one matches as a prefix). Empty: every check.
    pub only: Vec<String>,
    /// How long one request may take.
    pub timeout: Duration,
    /// How many samples each latency probe takes.
    pub perf_samples: usize,
    /// How long a stdio server has to exit once its stdin is closed.
    pub exit_grace: Duration,
    /// The HTTP client's settings (proxy, extra CA, user agent); its request timeout is
    /// [`timeout`](Self::timeout).
    pub http: HttpOptions,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            spec: SpecChoice::Auto,
            only: Vec::new(),
            timeout: Duration::from_secs(10),
            perf_samples: 50,
            exit_grace: Duration::from_secs(2),
            http: HttpOptions::default(),
        }
    }
}

impl Options {
    /// Whether [`only`](Self::only) lets `check` run.
    pub fn selects(&self, check: &Check) -> bool {
        self.only.is_empty()
            || self.only.iter().any(|pattern| {
                matches(pattern, check.id) || check.scenario.is_some_and(|s| matches(pattern, s))
            })
    }
}

/// The results of a run whose handshake the server refused: that handshake's check failed (what
/// was sent, what came back), every other check skipped for want of a session.
pub(crate) fn refused_handshake(
    options: &Options,
    era: Era,
    what: &str,
    sent: String,
    answer: String,
) -> Vec<CheckResult> {
    let handshake = lifecycle::handshake_check(era);
    catalogue()
        .into_iter()
        .filter(|check| options.selects(check))
        .map(|check| {
            let (status, detail, sent, received) = if check == handshake {
                (
                    Status::Fail,
                    format!("{what} was refused, so nothing else could be checked"),
                    Some(sent.clone()),
                    Some(answer.clone()),
                )
            } else {
                (
                    Status::Skip,
                    format!("no session: {what} was refused"),
                    None,
                    None,
                )
            };
            CheckResult {
                sent,
                received,
                ..CheckResult::new(&check, status, Some(detail))
            }
        })
        .collect()
}

/// Whether `pattern` selects `text`: a glob with `*`, else a prefix.
fn matches(pattern: &str, text: &str) -> bool {
    if !pattern.contains('*') {
        return text.starts_with(pattern);
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, rest) = parts.split_first().unwrap_or((&"", &[]));
    let Some(mut remaining) = text.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return remaining.is_empty();
    };
    for part in middle {
        match remaining.find(part) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    remaining.ends_with(last)
}

/// A run in progress.
pub(crate) struct Ctx<'a> {
    pub(crate) session: Session,
    pub(crate) options: &'a Options,
    pub(crate) target: &'a Target,
    pub(crate) http: &'a HttpClient,
    pub(crate) results: Vec<CheckResult>,
    /// Set when the connection ended: the check during which it did.
    gone: Option<&'static str>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        session: Session,
        options: &'a Options,
        target: &'a Target,
        http: &'a HttpClient,
    ) -> Self {
        Self {
            session,
            options,
            target,
            http,
            results: Vec::new(),
            gone: None,
        }
    }

    /// Whether `--only` selects `check`.
    pub(crate) fn selected(&self, check: &Check) -> bool {
        self.options.selects(check)
    }

    /// Whether `check` should run now: selected, and the server still there (if it is gone the
    /// check is recorded as skipped, naming where the connection ended).
    pub(crate) fn wants(&mut self, check: &Check) -> bool {
        if !self.selected(check) {
            return false;
        }
        if let Some(during) = self.gone {
            self.record(
                check,
                Outcome::Skip(format!("the connection ended during {during}")),
            );
            return false;
        }
        true
    }

    /// Records `check`'s outcome.
    pub(crate) fn record(&mut self, check: &Check, outcome: Outcome) {
        let (status, detail, sent, received) = match outcome {
            Outcome::Pass(note) => (Status::Pass, note, None, None),
            Outcome::Skip(reason) => (Status::Skip, Some(reason), None, None),
            Outcome::Fail(failure) => (
                Status::Fail,
                Some(failure.why),
                failure.sent,
                failure.received,
            ),
        };
        tracing::debug!(id = check.id, ?status, "check");
        self.results.push(CheckResult {
            sent,
            received,
            ..CheckResult::new(check, status, detail)
        });
    }

    /// Records `check` as skipped (if selected): for the connection's end if it has ended (the
    /// likelier reason nothing was there to check), else for `reason`.
    pub(crate) fn skip_unless_gone(&mut self, check: &Check, reason: impl Into<String>) {
        if self.wants(check) {
            self.skip(check, reason);
        }
    }

    /// Records `check` as skipped (if selected).
    pub(crate) fn skip(&mut self, check: &Check, reason: impl Into<String>) {
        if self.selected(check) {
            self.record(check, Outcome::Skip(reason.into()));
        }
    }

    /// Sends a request for `check`; on a wire failure records the check as failed (and notes a
    /// lost connection), returning `None`.
    pub(crate) async fn request(
        &mut self,
        check: &Check,
        method: &str,
        params: Value,
    ) -> Option<Exchange> {
        match self.session.request(method, params).await {
            Ok(exchange) => Some(exchange),
            Err(error) => {
                self.lost(check, &error);
                self.record(check, Outcome::no_answer(method, &error));
                None
            }
        }
    }

    /// Notes that the connection is gone, if `error` says so.
    pub(crate) fn lost(&mut self, check: &Check, error: &WireError) {
        if error.is_connection_lost() {
            self.gone = Some(check.id);
        }
    }

    /// Whether the connection has ended.
    pub(crate) fn session_gone(&self) -> bool {
        self.gone.is_some()
    }

    /// Forgets that the connection ended: over streamable HTTP a broken connection can leave the
    /// server serving, as a later request showed.
    pub(crate) fn revive(&mut self) {
        self.gone = None;
    }

    /// The check during which the connection ended, if it has.
    pub(crate) fn gone_during(&self) -> Option<&'static str> {
        self.gone
    }

    pub(crate) fn era(&self) -> Era {
        self.session.era
    }

    /// Whether the server is checked over streamable HTTP.
    pub(crate) fn is_http(&self) -> bool {
        matches!(self.target, Target::StreamableHttp { .. })
    }
}

/// Runs every area's checks in order.
pub(crate) async fn run_all(ctx: &mut Ctx<'_>) {
    lifecycle::run(ctx).await;
    jsonrpc::run(ctx).await;
    tools::run(ctx).await;
    resources::run(ctx).await;
    prompts::run(ctx).await;
    modern::run(ctx).await;
    http::run(ctx).await;
    jsonrpc::run_robustness(ctx).await;
    perf::run(ctx).await;
    stdio::run(ctx).await;
    // After the session's stdio copy is gone: a server that allows one copy at a time must not
    // fail the negotiation for that. Its messages are judged too, so the whole-run checks last.
    lifecycle::run_negotiation(ctx).await;
    jsonrpc::run_whole_session(ctx);
}

/// One area's list whose checks [`list_area`] records (prompts, resources).
pub(crate) struct ListArea {
    /// The method (`prompts/list`) and the result's member holding the items (`prompts`).
    pub(crate) method: &'static str,
    pub(crate) key: &'static str,
    /// What an item is called (`prompt`) and the field naming it (`name`).
    pub(crate) item: &'static str,
    pub(crate) id_field: &'static str,
    /// The area's list and pagination checks, and its whole catalogue.
    pub(crate) list: Check,
    pub(crate) pagination: Check,
    pub(crate) catalogue: &'static [Check],
    /// What is wrong with the items, if anything.
    pub(crate) problems: fn(&[Value]) -> Vec<String>,
}

/// Lists `area`'s items, for any selected check of the area, and records its list and pagination
/// checks when they are selected (each skipped, saying why, if the connection ended earlier or
/// the listing failed before pagination could be judged). The items, or none.
pub(crate) async fn list_area(ctx: &mut Ctx<'_>, area: &ListArea) -> Vec<Value> {
    if !area.catalogue.iter().any(|check| ctx.selected(check)) {
        return Vec::new();
    }
    let (list, pagination) = (ctx.wants(&area.list), ctx.wants(&area.pagination));
    if ctx.session_gone() {
        return Vec::new();
    }
    match ctx
        .session
        .list_all(area.method, area.key, tools::MAX_PAGES)
        .await
    {
        Ok(listed) => {
            if list {
                let outcome = list_outcome(&listed, area.method, |listed, _| {
                    (area.problems)(&listed.items)
                });
                ctx.record(&area.list, outcome);
            }
            if pagination {
                let outcome = tools::pagination_outcome(&listed, area.item, area.id_field);
                ctx.record(&area.pagination, outcome);
            }
            listed.items
        }
        Err(error) => {
            ctx.lost(&area.list, &error);
            if list {
                ctx.record(&area.list, Outcome::no_answer(area.method, &error));
            }
            if pagination {
                let reason = format!("{} was not answered: {error}", area.method);
                ctx.record(&area.pagination, Outcome::Skip(reason));
            }
            Vec::new()
        }
    }
}

/// The verdict on a whole list read page by page: a page not answered with a result fails;
/// otherwise `problems` of the items, shown by the last page.
pub(crate) fn list_outcome(
    listed: &Listed,
    method: &str,
    problems: impl FnOnce(&Listed, &Exchange) -> Vec<String>,
) -> Outcome {
    match (&listed.failed, listed.pages.last()) {
        (Some(failed), _) => {
            Outcome::fail(format!("{method} was not answered with a result"), failed)
        }
        (None, Some(last)) => Outcome::from_problems(&problems(listed, last), last),
        (None, None) => Outcome::fail_because(format!("{method} was never answered")),
    }
}

/// A human name for a JSON value's type.
pub(crate) fn kind(value: Option<&Value>) -> &'static str {
    match value {
        None => "missing",
        Some(Value::Null) => "null",
        Some(Value::Bool(_)) => "a boolean",
        Some(Value::Number(_)) => "a number",
        Some(Value::String(_)) => "a string",
        Some(Value::Array(_)) => "an array",
        Some(Value::Object(_)) => "an object",
    }
}

/// `Level` shorthand for the catalogues.
pub(crate) const MUST: Level = Level::Must;
pub(crate) const SHOULD: Level = Level::Should;
pub(crate) const INFO: Level = Level::Info;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_patterns_are_prefixes_or_globs() {
        assert!(matches("tools", "tools-call-error"));
        assert!(!matches("tools", "prompts-list"));
        assert!(matches("*-list", "prompts-list"));
        assert!(matches(
            "sep-*-caching*",
            "sep-2549-tools-list-caching-hints"
        ));
        assert!(!matches("sep-*-x", "sep-2549-y"));
        assert!(matches("ping", "ping"));
    }

    #[test]
    fn check_ids_are_unique() {
        let all = catalogue();
        let mut ids: Vec<&str> = all.iter().map(|check| check.id).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len(), "duplicate check ids");
    }
}

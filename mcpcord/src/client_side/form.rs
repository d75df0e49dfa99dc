//! A server's request for input, asked on the terminal: a form built from the requested schema
//! (`mcp_manager::ElicitationForm`), or a URL to open.
//!
//! The person first chooses to fill in the form, decline or cancel; then answers one prompt per
//! field (typed text checked against the field as it is entered; a list for a choice; yes or no);
//! then sends, declines or cancels. Esc (or `q`) in a list cancels. Everything the server wrote
//! (its message, titles, descriptions, choice labels, the URL) is shown through `terminal_safe`,
//! on one line each except the message.
//!
//! The prompts (dialoguer) block, so they run on a blocking thread, one request at a time:
//! requests from several servers wait for the person in turn rather than drawing over each other.
//! A prompt reads keys with the terminal in raw mode and its cursor hidden; if `mcpcord` ends while
//! one waits (the call timed out), `restore_terminal` puts the terminal back as it was.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use dialoguer::console::Term;
use dialoguer::theme::ColorfulTheme;
use dialoguer::{Input, MultiSelect, Select};
use futures::future::BoxFuture;
use mcp_manager::oauth::Browser;
use mcp_manager::rmcp::ErrorData;
use mcp_manager::rmcp::model::{ElicitRequestParams, ElicitResult, ElicitationAction};
use mcp_manager::transport::error::terminal_safe;
use mcp_manager::{ElicitationForm, ElicitationHandler, FieldKind, FormField};
use rustix::termios::{OptionalActions, Termios, tcgetattr, tcsetattr};
use serde_json::{Map, Value};

use super::Notes;
use crate::render::one_line;

/// The longest message shown (characters); a longer one is cut, saying so.
const MAX_MESSAGE_CHARS: usize = 2_000;

/// The longest URL shown in full (characters). A server could hide where a link goes past the
/// terminal's edge, so a longer one is not opened from here at all.
const MAX_URL_CHARS: usize = 2_000;

/// Raised when the request a prompt answers is dropped before its answer (a guard in the future
/// that waits for it).
struct Withdrawn(Option<Arc<AtomicBool>>);

impl Withdrawn {
    fn new(flag: &Arc<AtomicBool>) -> Self {
        Self(Some(Arc::clone(flag)))
    }

    /// The answer came: nothing to raise.
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for Withdrawn {
    fn drop(&mut self) {
        if let Some(flag) = &self.0 {
            flag.store(true, Ordering::SeqCst);
        }
    }
}

/// The terminal's settings before the prompt now on the screen, if one is.
static PROMPTING: Mutex<Option<Termios>> = Mutex::new(None);

/// Marks a prompt on the screen for its lifetime, keeping the terminal's settings from before it.
struct Prompting;

impl Prompting {
    fn start() -> Self {
        let saved = tcgetattr(io::stdin()).ok();
        *PROMPTING.lock().unwrap_or_else(PoisonError::into_inner) = saved;
        Self
    }
}

impl Drop for Prompting {
    fn drop(&mut self) {
        *PROMPTING.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// If a prompt is still on the screen (`mcpcord` is ending without its answer), puts the terminal
/// back as it was before it: its settings (no raw mode), the cursor shown, a fresh line.
pub(crate) fn restore_terminal() {
    let saved = PROMPTING
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    if let Some(saved) = saved {
        let _ = tcsetattr(io::stdin(), OptionalActions::Now, &saved);
        let _ = Term::stderr().show_cursor();
        let _ = Term::stderr().write_line("");
    }
}

/// Asks the person at the terminal.
#[derive(Debug)]
pub(crate) struct TerminalForm {
    /// Opens a URL the person agrees to open (none: they open it themselves).
    browser: Option<Arc<dyn Browser>>,
    notes: Notes,
    /// Held while a request is on the screen.
    turn: Arc<Mutex<()>>,
}

/// What the person answered.
#[derive(Debug)]
enum Answer {
    Accept(Map<String, Value>),
    Decline,
    Cancel,
}

/// One field's answer.
enum Entry {
    Value(Value),
    /// Left empty (an optional field).
    Empty,
    /// Esc: the whole request is cancelled.
    Cancel,
}

impl TerminalForm {
    pub(super) fn new(browser: Option<Arc<dyn Browser>>, notes: Notes) -> Self {
        Self {
            browser,
            notes,
            turn: Arc::new(Mutex::new(())),
        }
    }

    /// Runs `ask` on a blocking thread, after any request already on the screen. A prompt cannot
    /// be interrupted, so if this future is dropped (the server withdrew the request, the session
    /// closed) `ask` is told through its flag, to stop after the prompt on the screen.
    async fn in_turn<T: Send + 'static>(
        &self,
        ask: impl FnOnce(&Term, &AtomicBool) -> io::Result<T> + Send + 'static,
    ) -> io::Result<T> {
        let turn = Arc::clone(&self.turn);
        let flag = Arc::new(AtomicBool::new(false));
        let withdrawn = Withdrawn::new(&flag);
        let asked = tokio::task::spawn_blocking(move || {
            let _turn = turn.lock().unwrap_or_else(PoisonError::into_inner);
            if flag.load(Ordering::SeqCst) {
                // Withdrawn while it waited for its turn: nothing to show.
                return Err(io::Error::other("the request was withdrawn"));
            }
            let _bars = crate::live::hide_bars();
            let _prompting = Prompting::start();
            ask(&Term::stderr(), &flag)
        })
        .await;
        withdrawn.disarm();
        asked.unwrap_or_else(|error| Err(io::Error::other(error)))
    }

    async fn form(&self, server: String, form: ElicitationForm) -> ElicitResult {
        match self
            .in_turn(move |term, withdrawn| ask_form(term, &server, &form, withdrawn))
            .await
        {
            Ok(Answer::Accept(content)) => {
                let mut result = ElicitResult::new(ElicitationAction::Accept);
                result.content = Some(Value::Object(content));
                result
            }
            Ok(Answer::Decline) => ElicitResult::new(ElicitationAction::Decline),
            Ok(Answer::Cancel) => ElicitResult::new(ElicitationAction::Cancel),
            Err(error) => {
                self.notes
                    .say(&format!("the form could not be shown ({error}); cancelled"));
                ElicitResult::new(ElicitationAction::Cancel)
            }
        }
    }

    async fn url(&self, server: String, message: String, url: String) -> ElicitResult {
        let parsed = openable(&url);
        let can_open = self.browser.is_some() && parsed.is_some();
        let answer = self
            .in_turn(move |term, _| ask_url(term, &server, &message, &url, can_open))
            .await;
        match answer {
            Ok(UrlAnswer::Open) => {
                if let (Some(browser), Some(url)) = (&self.browser, &parsed)
                    && let Err(error) = browser.open(url).await
                {
                    self.notes
                        .say(&format!("the URL was not opened ({error}); declined"));
                    return ElicitResult::new(ElicitationAction::Decline);
                }
                ElicitResult::new(ElicitationAction::Accept)
            }
            Ok(UrlAnswer::Decline) => ElicitResult::new(ElicitationAction::Decline),
            Ok(UrlAnswer::Cancel) => ElicitResult::new(ElicitationAction::Cancel),
            Err(error) => {
                self.notes.say(&format!(
                    "the request could not be shown ({error}); cancelled"
                ));
                ElicitResult::new(ElicitationAction::Cancel)
            }
        }
    }
}

impl ElicitationHandler for TerminalForm {
    fn elicit(
        &self,
        server: &str,
        params: ElicitRequestParams,
    ) -> BoxFuture<'_, Result<ElicitResult, ErrorData>> {
        let server = server.to_owned();
        Box::pin(async move {
            let result = match params {
                ElicitRequestParams::FormElicitationParams {
                    message,
                    requested_schema,
                    ..
                } => match ElicitationForm::from_schema(message, &requested_schema) {
                    Ok(form) => self.form(server, form).await,
                    Err(error) => {
                        self.notes.say(&format!(
                            "server {} asked for input with a form mcpcord cannot show ({error}); \
                             declined",
                            one_line(&server)
                        ));
                        ElicitResult::new(ElicitationAction::Decline)
                    }
                },
                ElicitRequestParams::UrlElicitationParams { message, url, .. } => {
                    self.url(server, message, url).await
                }
                _ => ElicitResult::new(ElicitationAction::Decline),
            };
            Ok(result)
        })
    }

    fn supports_url(&self) -> bool {
        true
    }
}

/// The server's message, indented, its lines kept.
fn write_message(term: &Term, message: &str) -> io::Result<()> {
    for line in terminal_safe(message, MAX_MESSAGE_CHARS).lines() {
        term.write_line(&format!("  {line}"))?;
    }
    Ok(())
}

/// `url`, if it is one to offer to open in a browser: `http` or `https` only, never a `file:`,
/// `javascript:` or an application's own scheme, which a browser would hand on.
fn openable(url: &str) -> Option<mcp_manager::Url> {
    mcp_manager::Url::parse(url)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https"))
}

fn ask_form(
    term: &Term,
    server: &str,
    form: &ElicitationForm,
    withdrawn: &AtomicBool,
) -> io::Result<Answer> {
    let theme = ColorfulTheme::default();
    term.write_line(&format!("Server {} asks for input:", one_line(server)))?;
    write_message(term, form.message())?;
    let start = Select::with_theme(&theme)
        .with_prompt("Answer it?")
        .items(["Fill in the form", "Decline", "Cancel"])
        .default(0)
        .interact_on_opt(term)?;
    match start {
        Some(0) => {}
        Some(1) => return Ok(Answer::Decline),
        _ => return Ok(Answer::Cancel),
    }
    let closed = || -> io::Result<bool> {
        let withdrawn = withdrawn.load(Ordering::SeqCst);
        if withdrawn {
            term.write_line(&format!(
                "Server {} withdrew the request; the form is closed",
                one_line(server)
            ))?;
        }
        Ok(withdrawn)
    };
    let mut values = Map::new();
    for field in form.fields() {
        if closed()? {
            return Ok(Answer::Cancel);
        }
        match ask_field(term, &theme, field)? {
            Entry::Value(value) => {
                values.insert(field.name().to_owned(), value);
            }
            Entry::Empty => {}
            Entry::Cancel => return Ok(Answer::Cancel),
        }
    }
    if closed()? {
        return Ok(Answer::Cancel);
    }
    let send = Select::with_theme(&theme)
        .with_prompt("Send these values?")
        .items(["Send", "Decline", "Cancel"])
        .default(0)
        .interact_on_opt(term)?;
    match send {
        // Each value was checked as it was entered; this checks the whole (required fields).
        Some(0) => match form.answer(values) {
            Ok(content) => Ok(Answer::Accept(content)),
            Err(error) => {
                term.write_line(&format!("Not sent: {error}; cancelled"))?;
                Ok(Answer::Cancel)
            }
        },
        Some(1) => Ok(Answer::Decline),
        _ => Ok(Answer::Cancel),
    }
}

/// The prompt for a field: its label (and name, if the title hides it), `*` when required, and a
/// hint of what it takes.
fn prompt_of(field: &FormField) -> String {
    let mut prompt = one_line(field.label());
    if field.title().is_some() {
        prompt.push_str(&format!(" ({})", one_line(field.name())));
    }
    if field.is_required() {
        prompt.push_str(" *");
    }
    let hint = match field.kind() {
        FieldKind::Text {
            format: Some(format),
            ..
        } => Some(format.describe().to_owned()),
        FieldKind::Number {
            minimum, maximum, ..
        } => range_hint("a number", *minimum, *maximum),
        FieldKind::Integer {
            minimum, maximum, ..
        } => range_hint("an integer", *minimum, *maximum),
        _ => None,
    };
    if let Some(hint) = hint {
        prompt.push_str(&format!(" [{hint}]"));
    }
    prompt
}

fn range_hint<T: std::fmt::Display>(
    what: &str,
    minimum: Option<T>,
    maximum: Option<T>,
) -> Option<String> {
    Some(match (minimum, maximum) {
        (Some(minimum), Some(maximum)) => format!("{what}, {minimum} to {maximum}"),
        (Some(minimum), None) => format!("{what}, at least {minimum}"),
        (None, Some(maximum)) => format!("{what}, at most {maximum}"),
        (None, None) => what.to_owned(),
    })
}

fn ask_field(term: &Term, theme: &ColorfulTheme, field: &FormField) -> io::Result<Entry> {
    if let Some(description) = field.description() {
        term.write_line(&format!("  {}", one_line(description)))?;
    }
    let prompt = prompt_of(field);
    match field.kind() {
        FieldKind::Boolean { default } => {
            let mut items = vec!["yes".to_owned(), "no".to_owned()];
            let chosen = match default {
                Some(false) => 1,
                _ => 0,
            };
            pick_one(term, theme, field, &prompt, &mut items, chosen).map(|entry| match entry {
                Some(Some(0)) => Entry::Value(Value::Bool(true)),
                Some(Some(_)) => Entry::Value(Value::Bool(false)),
                Some(None) => Entry::Empty,
                None => Entry::Cancel,
            })
        }
        FieldKind::OneOf { choices, default } => {
            let mut items: Vec<String> = choices
                .iter()
                .map(|choice| one_line(choice.shown()))
                .collect();
            let chosen = default
                .as_ref()
                .and_then(|default| choices.iter().position(|choice| choice.value == *default))
                .unwrap_or(0);
            pick_one(term, theme, field, &prompt, &mut items, chosen).map(|entry| match entry {
                Some(Some(at)) => choices.get(at).map_or(Entry::Empty, |choice| {
                    Entry::Value(Value::String(choice.value.clone()))
                }),
                Some(None) => Entry::Empty,
                None => Entry::Cancel,
            })
        }
        FieldKind::ManyOf {
            choices, default, ..
        } => loop {
            let items: Vec<(String, bool)> = choices
                .iter()
                .map(|choice| (one_line(choice.shown()), default.contains(&choice.value)))
                .collect();
            let Some(chosen) = MultiSelect::with_theme(theme)
                .with_prompt(format!("{prompt} (space to choose, enter when done)"))
                .items_checked(items)
                .interact_on_opt(term)?
            else {
                return Ok(Entry::Cancel);
            };
            if chosen.is_empty() && !field.is_required() {
                return Ok(Entry::Empty);
            }
            let value = Value::Array(
                chosen
                    .iter()
                    .filter_map(|&at| choices.get(at))
                    .map(|choice| Value::String(choice.value.clone()))
                    .collect(),
            );
            match field.check(&value) {
                Ok(()) => return Ok(Entry::Value(value)),
                Err(error) => term.write_line(&format!("  {error}; choose again"))?,
            }
        },
        // Text, numbers, integers, and any kind to come: typed, and checked as typed.
        _ => {
            let mut input = Input::<String>::with_theme(theme)
                .with_prompt(prompt)
                .allow_empty(true)
                .validate_with(|text: &String| -> Result<(), String> {
                    field
                        .parse(text)
                        .map(|_| ())
                        .map_err(|error| error.to_string())
                });
            let default = field.default();
            // The default as shown (a server's text made safe), which Enter alone returns.
            let shown_default = default.as_ref().map(|default| match default {
                Value::String(text) => one_line(text),
                other => other.to_string(),
            });
            if let Some(shown) = &shown_default {
                input = input.default(shown.clone());
            }
            let text = input.interact_text_on(term)?;
            if let Some(default) = default.filter(|_| shown_default.as_ref() == Some(&text)) {
                return Ok(Entry::Value(default));
            }
            Ok(match field.parse(&text) {
                Ok(Some(value)) => Entry::Value(value),
                // Unreachable after the validator.
                Ok(None) | Err(_) => Entry::Empty,
            })
        }
    }
}

/// One item out of `items` (with "(no answer)" added for an optional field): `Some(Some(at))`,
/// `Some(None)` for no answer, `None` for Esc.
fn pick_one(
    term: &Term,
    theme: &ColorfulTheme,
    field: &FormField,
    prompt: &str,
    items: &mut Vec<String>,
    chosen: usize,
) -> io::Result<Option<Option<usize>>> {
    let answers = items.len();
    if !field.is_required() {
        items.push("(no answer)".to_owned());
    }
    let picked = Select::with_theme(theme)
        .with_prompt(prompt)
        .items(items.iter())
        .default(chosen)
        .interact_on_opt(term)?;
    Ok(picked.map(|at| (at < answers).then_some(at)))
}

/// What the person answered to a URL.
enum UrlAnswer {
    Open,
    Decline,
    Cancel,
}

fn ask_url(
    term: &Term,
    server: &str,
    message: &str,
    url: &str,
    can_open: bool,
) -> io::Result<UrlAnswer> {
    let theme = ColorfulTheme::default();
    term.write_line(&format!(
        "Server {} asks you to open a URL:",
        one_line(server)
    ))?;
    write_message(term, message)?;
    if url.chars().count() > MAX_URL_CHARS {
        term.write_line(&format!(
            "  (a URL of {} characters, too long to show in full; declined)",
            url.chars().count()
        ))?;
        return Ok(UrlAnswer::Decline);
    }
    term.write_line(&format!("  URL: {}", one_line(url)))?;
    let open = if can_open {
        "Open it in the browser"
    } else {
        "Accept (open it yourself)"
    };
    let picked = Select::with_theme(&theme)
        .with_prompt("Open it?")
        .items([open, "Decline", "Cancel"])
        .default(0)
        .interact_on_opt(term)?;
    Ok(match picked {
        Some(0) => UrlAnswer::Open,
        Some(1) => UrlAnswer::Decline,
        _ => UrlAnswer::Cancel,
    })
}

#[cfg(test)]
mod tests {
    use super::openable;

    #[test]
    fn only_web_urls_are_offered_to_the_browser() {
        assert!(openable("https://example.com/consent?step=1").is_some());
        assert!(openable("http://127.0.0.1:8080/").is_some());
        for url in [
            "file:///etc/passwd",
            "javascript:alert(1)",
            "vscode://extension/install",
            "mailto:someone@example.com",
            "not a url",
        ] {
            assert!(openable(url).is_none(), "{url}");
        }
    }
}

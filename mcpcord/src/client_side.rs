//! The client side of the protocol, from the command line: the roots `mcpcord` offers (`--root`),
//! how it answers a server's request for input (elicitation) and for an LLM completion
//! (sampling).
//!
//! Elicitation: on a terminal, a form asks the person (`form`); with `--no-input`, `--elicit
//! decline` or off a terminal, every request is declined, with one line on stderr saying so;
//! `--elicit defaults` accepts with the schema's defaults when they answer the form (declining,
//! with a line on stderr, when a required field has none). Sampling: `--sampling-command` answers
//! (`sampling`); without it every request is declined, the server told that `mcpcord` has no
//! model and the person told on stderr.
//!
//! Both capabilities are advertised whatever the answer will be, so that a server's tools that
//! need them appear and can be tried: someone testing a server sees what it does when its request
//! is declined, and is told how to answer it.

mod form;
mod sampling;

pub(crate) use form::restore_terminal;
pub(crate) use sampling::kill_all as kill_sampling_commands;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, ValueEnum};
use futures::future::BoxFuture;
use mcp_manager::oauth::{Browser, BrowserMode, SystemBrowser};
use mcp_manager::rmcp::model::{ElicitRequestParams, ElicitResult, ElicitationAction};
use mcp_manager::{
    ClientRoot, ElicitationForm, ElicitationHandler, ElicitationPolicy, ManagerOptions,
};
use serde_json::Value;

use crate::Cli;
use crate::render::one_line;

/// The flags for what servers may ask of `mcpcord`.
#[derive(Debug, Args)]
#[command(next_help_heading = "What servers may ask of mcpcord")]
pub(crate) struct ClientSideArgs {
    /// Offer this directory to servers as a root (repeatable): servers that ask for roots, such as
    /// the filesystem server, work within them.
    #[arg(long = "root", global = true, value_name = "DIR")]
    roots: Vec<PathBuf>,
    /// How to answer a server's request for input (elicitation): ask (a form on the terminal;
    /// declined off one), decline, or defaults (accept with the defaults its schema declares when
    /// they fill every required field; decline otherwise).
    #[arg(long, global = true, value_name = "MODE", value_enum)]
    elicit: Option<ElicitMode>,
    /// Ask nothing on the terminal: a server's requests for input are declined.
    #[arg(long, global = true)]
    no_input: bool,
    /// Answer a server's sampling requests with this command (run by `sh -c`): it reads the
    /// request's params as JSON on stdin and prints a CreateMessageResult as JSON on stdout,
    /// within 60 s and 1 MiB. Without it, sampling is declined.
    #[arg(long, global = true, value_name = "CMD")]
    sampling_command: Option<String>,
}

/// `--elicit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ElicitMode {
    /// A form on the terminal; declined when stdin or stderr is not one.
    Ask,
    /// Decline every request.
    Decline,
    /// Accept form requests with their schema's defaults when they answer the form; decline the
    /// others, and URL requests.
    Defaults,
}

/// Refuses the flags for `command`, which connects to no server the user gives (`serve-demo`).
pub(crate) fn refuse_for(args: &ClientSideArgs, command: &str) -> Result<(), String> {
    let given = [
        ("--root", !args.roots.is_empty()),
        ("--elicit", args.elicit.is_some()),
        ("--no-input", args.no_input),
        ("--sampling-command", args.sampling_command.is_some()),
    ];
    match given.iter().find(|(_, given)| *given) {
        Some((flag, _)) => Err(format!(
            "{flag} is for the servers mcpcord connects to; {command} connects to none"
        )),
        None => Ok(()),
    }
}

/// Sets the roots, the elicitation policy and the sampling handler of `options` from the flags.
///
/// # Errors
/// A usage error: a `--root` that is not a directory, or `--no-input` with `--elicit ask`.
pub(crate) fn configure(cli: &Cli, options: &mut ManagerOptions) -> Result<(), String> {
    let args = &cli.client_side;
    for dir in &args.roots {
        let root = root(dir)?;
        if !options.roots.contains(&root) {
            options.roots.push(root);
        }
    }
    let notes = Notes { quiet: cli.quiet };
    let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    options.elicitation = match (args.elicit, args.no_input) {
        (Some(ElicitMode::Ask), true) => {
            return Err("--no-input asks nothing, and --elicit ask asks: give one".to_owned());
        }
        (Some(ElicitMode::Defaults), _) => ElicitationPolicy::Ask(Arc::new(Defaults { notes })),
        (Some(ElicitMode::Decline), _) => declining(notes, "--elicit decline"),
        (_, true) => declining(notes, "--no-input"),
        (_, false) if !terminal => declining(notes, "not on a terminal"),
        (_, false) => {
            // A URL a server asks the person to open goes to the system browser, unless they
            // said otherwise (`--browser none`; `follow` is for logins without a person).
            let browser = match crate::browser_mode(cli) {
                Ok(Some(BrowserMode::System)) => {
                    Some(Arc::new(SystemBrowser::new()) as Arc<dyn Browser>)
                }
                _ => None,
            };
            ElicitationPolicy::Ask(Arc::new(form::TerminalForm::new(browser, notes)))
        }
    };
    options.sampling = Some(match &args.sampling_command {
        Some(command) => Arc::new(sampling::CommandSampler::new(command.clone(), notes)),
        None => Arc::new(sampling::NoModel::new(notes)),
    });
    Ok(())
}

/// `--root DIR`: the directory, made absolute with its links resolved, as a `file://` URI named
/// after its last component.
fn root(dir: &Path) -> Result<ClientRoot, String> {
    let shown = dir.display();
    let canonical = std::fs::canonicalize(dir).map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => format!("--root {shown}: no such directory"),
        _ => format!("--root {shown}: {error}"),
    })?;
    if !canonical.is_dir() {
        return Err(format!("--root {shown} is not a directory"));
    }
    let uri = mcp_manager::Url::from_file_path(&canonical)
        .map_err(|()| format!("--root {shown} cannot be written as a file:// URI"))?;
    let name = canonical
        .file_name()
        .map(|name| name.to_string_lossy().into_owned());
    Ok(ClientRoot {
        uri: uri.to_string(),
        name,
    })
}

fn declining(notes: Notes, why: &'static str) -> ElicitationPolicy {
    ElicitationPolicy::Ask(Arc::new(Declining { why, notes }))
}

/// Lines on stderr about what a server asked and how it was answered; none with `--quiet`.
#[derive(Debug, Clone, Copy)]
struct Notes {
    quiet: bool,
}

impl Notes {
    fn say(self, line: &str) {
        if !self.quiet {
            crate::live::eprint_line(&format!("mcpcord: {line}"));
        }
    }
}

/// Declines every request for input, saying so on stderr.
#[derive(Debug)]
struct Declining {
    /// Why nobody is asked: "--no-input", "not on a terminal".
    why: &'static str,
    notes: Notes,
}

impl ElicitationHandler for Declining {
    fn elicit(
        &self,
        server: &str,
        params: ElicitRequestParams,
    ) -> BoxFuture<'_, Result<ElicitResult, mcp_manager::rmcp::ErrorData>> {
        let (message, hint) = match &params {
            ElicitRequestParams::FormElicitationParams { message, .. } => (
                message.as_str(),
                "; --elicit defaults accepts with the form's defaults",
            ),
            ElicitRequestParams::UrlElicitationParams { message, .. } => (message.as_str(), ""),
            _ => ("", ""),
        };
        self.notes.say(&format!(
            "server {} asked for input ({}); declined: {}{hint}",
            one_line(server),
            one_line(message),
            self.why
        ));
        Box::pin(async { Ok(ElicitResult::new(ElicitationAction::Decline)) })
    }

    fn supports_url(&self) -> bool {
        true
    }
}

/// `--elicit defaults`: accepts a form request with the defaults its schema declares when they
/// answer the form ([`ElicitationForm::answer_defaults`], as
/// [`ElicitationPolicy::AcceptDefaults`] does), and otherwise declines it, saying why on stderr.
/// URL requests are declined without asking it.
#[derive(Debug)]
struct Defaults {
    notes: Notes,
}

impl ElicitationHandler for Defaults {
    fn elicit(
        &self,
        server: &str,
        params: ElicitRequestParams,
    ) -> BoxFuture<'_, Result<ElicitResult, mcp_manager::rmcp::ErrorData>> {
        let mut result = ElicitResult::new(ElicitationAction::Decline);
        if let ElicitRequestParams::FormElicitationParams {
            message,
            requested_schema,
            ..
        } = &params
        {
            match ElicitationForm::from_schema(message.as_str(), requested_schema)
                .and_then(|form| form.answer_defaults())
            {
                Ok(content) => {
                    result = ElicitResult::new(ElicitationAction::Accept);
                    result.content = Some(Value::Object(content));
                }
                // The error names a field, escaped, and never quotes the server's other text.
                Err(error) => self.notes.say(&format!(
                    "server {} asked for input ({}); declined: --elicit defaults cannot answer \
                     it ({})",
                    one_line(server),
                    one_line(message),
                    one_line(&error.to_string())
                )),
            }
        }
        Box::pin(async move { Ok(result) })
    }
}

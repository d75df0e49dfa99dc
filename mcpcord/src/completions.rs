//! `completions SHELL` and `man`: what a shell and `man` need, generated from the argument parser
//! itself, so they can never disagree with it. Both print to stdout and need no server:
//!
//! ```sh
//! mcpcord completions bash > ~/.local/share/bash-completion/completions/mcpcord
//! mcpcord man > ~/.local/share/man/man1/mcpcord.1
//! mcpcord man call > ~/.local/share/man/man1/mcpcord-call.1
//! ```

use std::process::ExitCode;

use clap::CommandFactory as _;
use clap_complete::Shell;

use crate::{Cli, output, render};

/// Prints the completion script for `shell`.
pub(crate) fn completions(shell: Shell) -> ExitCode {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "mcpcord", &mut script);
    written(&script)
}

/// Prints the man page in roff: `mcpcord(1)`, or `mcpcord-COMMAND(1)` for `command` (the pages
/// the first one's SUBCOMMANDS section names).
pub(crate) fn man(command: Option<&str>, as_json: bool) -> ExitCode {
    let mut cli = Cli::command();
    cli.build();
    let page = match command {
        None => cli,
        Some(name) => match cli.find_subcommand(name) {
            Some(sub) => {
                let full = format!("mcpcord-{}", sub.get_name());
                sub.clone()
                    .name(full.clone())
                    .bin_name(full.replacen('-', " ", 1))
                    .version(env!("CARGO_PKG_VERSION"))
            }
            None => {
                let names: Vec<&str> = cli.get_subcommands().map(|sub| sub.get_name()).collect();
                return render::usage_error(
                    as_json,
                    &format!("no command {name:?}; one of: {}", names.join(", ")),
                );
            }
        },
    };
    let mut roff = Vec::new();
    match clap_mangen::Man::new(page).render(&mut roff) {
        Ok(()) => written(&roff),
        Err(error) => {
            eprintln!("mcpcord: could not render the man page: {error}");
            ExitCode::from(1)
        }
    }
}

/// Writes `text` to stdout: exit 0, or 1 when the write failed (not for a closed pipe).
fn written(text: &[u8]) -> ExitCode {
    output::bytes(text);
    match output::finish() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mcpcord: could not write the output: {error}");
            ExitCode::from(1)
        }
    }
}

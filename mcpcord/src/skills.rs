//! `skills SERVER [SKILL] [--file PATH]`: a server's skills (SEP-2640), listed, or one loaded.
//!
//! Without SKILL it lists the entries (name, description, URI, file count) and reads no file. With
//! SKILL (a name, or the URI of its `SKILL.md`) it loads the skill through
//! `Manager::load_skill`, which hands out the `SKILL.md` only once its size, digest and
//! frontmatter match the entry, and prints it; `--file PATH` then reads that file of the skill,
//! verified the same way, and prints it instead. A verification failure is exit 1, its JSON
//! error's `kind` the `SkillError` code. Names are labels, not identities: a name two entries
//! share is refused with their URIs, so the person picks one.

use mcp_manager::model::Skill;
use mcp_manager::{Manager, SkillError, SkillFile};
use serde_json::json;

use crate::commands::{fail, fail_call};
use crate::render::{shown, shown_output};
use crate::requests::connect;
use crate::{Cli, Outcome, SkillsArgs};

pub(crate) async fn skills(cli: &Cli, manager: &Manager, args: &SkillsArgs) -> Outcome {
    let usage = "skills SERVER [SKILL] [--file PATH]";
    let (server, wanted) = match split(&args.positionals, &args.command, usage) {
        Ok(split) => split,
        Err(message) => return Outcome::Usage(message),
    };
    if wanted.is_none() && args.file.is_some() {
        return Outcome::Usage(format!("--file needs a SKILL: mcpcord {usage}"));
    }
    let (_, id) = match connect(cli, manager, server, &args.command).await {
        Ok(connected) => connected,
        Err(outcome) => return outcome,
    };
    let entries = match manager.list_skills(id).await {
        Ok(entries) => entries,
        Err(error) => return fail_skill(cli, &error),
    };
    let Some(wanted) = wanted else {
        print_list(cli, &entries);
        return Outcome::Ok;
    };
    let entry = match pick(&entries, wanted) {
        Ok(entry) => entry,
        Err(message) => return fail(cli, "unknown_skill", &message),
    };
    let skill = match manager.load_skill(id, entry).await {
        Ok(skill) => skill,
        Err(error) => return fail_skill(cli, &error),
    };
    let Some(path) = &args.file else {
        if cli.json {
            crate::render::print_json(&json!({
                "skill": skill.entry(),
                "text": skill.text(),
            }));
        } else {
            out!("{}", shown_output(skill.text()).trim_end());
        }
        return Outcome::Ok;
    };
    match manager.read_skill_file(&skill, path).await {
        Ok(file) => {
            print_file(cli, &file);
            Outcome::Ok
        }
        Err(error) => fail_skill(cli, &error),
    }
}

/// The server (unless given after `--`) and the skill, if one is named.
fn split<'a>(
    positionals: &'a [String],
    command: &[String],
    usage: &str,
) -> Result<(Option<&'a String>, Option<&'a String>), String> {
    // The skill is optional: ask for as many positionals after the server as there are, at most
    // one, so that more is the usual usage error.
    let wanted = positionals
        .len()
        .saturating_sub(usize::from(command.is_empty()))
        .min(1);
    let (server, rest) = crate::requests::split(positionals, command, wanted, usage)?;
    Ok((server, rest.first()))
}

/// The entry `wanted` names: the one whose `SKILL.md` URI it is, else the one whose name it is.
fn pick<'a>(entries: &'a [Skill], wanted: &str) -> Result<&'a Skill, String> {
    if let Some(entry) = entries.iter().find(|entry| entry.uri == wanted) {
        return Ok(entry);
    }
    let named: Vec<&Skill> = entries
        .iter()
        .filter(|entry| entry.name() == wanted)
        .collect();
    match named.as_slice() {
        [entry] => Ok(entry),
        [] => Err(format!("the server lists no skill named {}", shown(wanted))),
        several => {
            let uris: Vec<String> = several.iter().map(|entry| shown(&entry.uri)).collect();
            Err(format!(
                "{} skills are named {}; give one's URI: {}",
                several.len(),
                shown(wanted),
                uris.join(", ")
            ))
        }
    }
}

fn print_list(cli: &Cli, entries: &[Skill]) {
    if cli.json {
        crate::render::print_json(&json!({ "skills": entries }));
        return;
    }
    if entries.is_empty() {
        out!("(no skills)");
    }
    for entry in entries {
        let files = match &entry.resources {
            mcp_manager::model::SkillResources::Files(files) => format!("{} files", files.len()),
            _ => "dynamic".to_owned(),
        };
        out!(
            "{}: {} ({}; {files})",
            shown(entry.name()),
            shown(&entry.frontmatter.description),
            shown(&entry.uri)
        );
    }
}

fn print_file(cli: &Cli, file: &SkillFile) {
    if cli.json {
        crate::render::print_json(&json!({
            "uri": file.uri(),
            "mimeType": file.mime_type(),
            "size": file.bytes().len(),
            "text": file.text(),
        }));
        return;
    }
    match file.text() {
        Some(text) => out!("{}", shown_output(text).trim_end()),
        None => out!(
            "({} bytes of binary content, verified; not printed)",
            file.bytes().len()
        ),
    }
}

/// A skills error: a failed request as every request's, else exit 1 with the error's own code.
fn fail_skill(cli: &Cli, error: &SkillError) -> Outcome {
    match error.call_error() {
        Some(call) => fail_call(cli, call, &error.to_string()),
        None => fail(cli, error.code(), &error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use mcp_manager::model::{SkillFrontmatter, SkillResources};

    use super::*;

    fn skill(uri: &str, name: &str) -> Skill {
        Skill::new(
            uri,
            SkillFrontmatter::new(name, "a skill"),
            SkillResources::Dynamic,
        )
    }

    #[test]
    fn a_skill_is_picked_by_uri_or_by_a_name_only_one_entry_has() {
        let entries = [
            skill("skill://acme/billing/refunds/SKILL.md", "refunds"),
            skill("skill://acme/support/refunds/SKILL.md", "refunds"),
            skill("skill://git-workflow/SKILL.md", "git-workflow"),
        ];
        assert_eq!(
            pick(&entries, "git-workflow").map(|entry| entry.uri.as_str()),
            Ok("skill://git-workflow/SKILL.md")
        );
        assert_eq!(
            pick(&entries, "skill://acme/support/refunds/SKILL.md").map(|entry| entry.uri.as_str()),
            Ok("skill://acme/support/refunds/SKILL.md")
        );
        let shared = pick(&entries, "refunds").expect_err("ambiguous");
        assert!(
            shared.contains("skill://acme/billing/refunds/SKILL.md")
                && shared.contains("skill://acme/support/refunds/SKILL.md"),
            "{shared}"
        );
        assert!(pick(&entries, "nothing").is_err());
    }

    #[test]
    fn the_skill_is_optional_and_anything_more_is_a_usage_error() {
        let usage = "skills SERVER [SKILL] [--file PATH]";
        let words =
            |words: &[&str]| -> Vec<String> { words.iter().map(|&w| w.to_owned()).collect() };
        let split_of = |positionals: &[&str], command: &[&str]| {
            let (positionals, command) = (words(positionals), words(command));
            split(&positionals, &command, usage)
                .map(|(server, skill)| (server.cloned(), skill.cloned()))
        };
        let some = |text: &str| Some(text.to_owned());
        assert_eq!(split_of(&["s"], &[]), Ok((some("s"), None)));
        assert_eq!(split_of(&["s", "k"], &[]), Ok((some("s"), some("k"))));
        assert_eq!(split_of(&[], &["cmd"]), Ok((None, None)));
        assert_eq!(split_of(&["k"], &["cmd"]), Ok((None, some("k"))));
        let usage_error = Err(format!("usage: mcpcord {usage}"));
        assert_eq!(split_of(&[], &[]), usage_error);
        assert_eq!(split_of(&["s", "k", "x"], &[]), usage_error);
        assert_eq!(
            split_of(&["k", "x"], &["cmd"]),
            Err(
                "with a command after --, leave SERVER out: mcpcord skills [SKILL] [--file PATH]"
                    .to_owned()
            )
        );
    }
}

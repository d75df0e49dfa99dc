//! Rich content as people read it (`call`, `prompt`, `read`): images with their type, size and
//! pixel dimensions, resource links and embedded resources, annotations, structured content, and
//! `--save DIR`; `--json` stays MCP's own JSON, numbers as the server sent them.
//!
//! The server is the official reference server, `@modelcontextprotocol/server-everything`, whose
//! tools return each kind of content; it lives in `target/npm/`, installed by `cargo xtask
//! npm-deps` (`cargo xtask ci` runs it before the tests). Without it, or without `node`, these
//! tests fail and say what to run: they never pass by skipping. Structured content comes from the
//! built-in demo server's `add`.

use std::path::Path;
use std::process::Output;

use mcp_tests::support::{TempDir, mcpcord_command};

use crate::support::{everything, stderr, stdout};
use crate::{MCPCORD, json_of};

/// `mcpcord ARGS -- node server-everything stdio`, run in `home`.
fn against_everything_in(home: &Path, args: &[&str]) -> Output {
    mcpcord_command(MCPCORD, home)
        .args(args)
        .arg("--")
        .args(everything())
        .output()
        .expect("mcpcord runs")
}

/// `mcpcord ARGS -- node server-everything stdio`, with a home of its own.
fn against_everything(args: &[&str]) -> Output {
    let home = TempDir::new("mcpcord-content");
    against_everything_in(home.path(), args)
}

/// Asserts exit 0, showing stderr when not.
fn assert_ok(output: &Output) {
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(output));
}

/// The one line of stdout that starts with `prefix`.
fn line_starting(output: &Output, prefix: &str) -> String {
    let text = stdout(output);
    let found: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with(prefix))
        .collect();
    assert_eq!(found.len(), 1, "one line starting {prefix:?} in:\n{text}");
    found[0].to_owned()
}

/// The names of the files in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("a directory")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn an_image_shows_its_type_size_and_pixel_dimensions_instead_of_its_base64() {
    let output = against_everything(&["call", "get-tiny-image"]);
    assert_ok(&output);
    let line = line_starting(&output, "[image] ");
    assert!(
        line.starts_with("[image] image/png, ") && line.ends_with(" bytes, 20x20 px"),
        "{line}"
    );
    assert!(!stdout(&output).contains("iVBORw0KGgo"), "no base64 shown");
    assert!(
        stderr(&output).contains("--save DIR"),
        "a hint how to save it: {}",
        stderr(&output)
    );
}

#[test]
fn save_writes_each_image_to_a_new_generated_file_and_says_where() {
    let home = TempDir::new("mcpcord-content");
    let dir = home.join("saved");
    std::fs::create_dir(&dir).expect("created");
    let dir_arg = dir.to_string_lossy().into_owned();
    for _ in 0..2 {
        let output =
            against_everything_in(home.path(), &["call", "get-tiny-image", "--save", &dir_arg]);
        assert_ok(&output);
    }
    assert_eq!(
        names(&dir),
        ["get-tiny-image-2.png", "get-tiny-image.png"],
        "named after the tool; the second never overwrites the first"
    );
    let first = std::fs::read(dir.join("get-tiny-image.png")).expect("saved");
    assert!(first.starts_with(b"\x89PNG\r\n\x1a\n"), "the decoded PNG");

    let output =
        against_everything_in(home.path(), &["call", "get-tiny-image", "--save", &dir_arg]);
    let line = line_starting(&output, "[image] ");
    let third = dir.join("get-tiny-image-3.png");
    assert!(
        line.ends_with(&format!("20x20 px, saved to {}", third.display())),
        "{line}"
    );
    assert_eq!(std::fs::read(&third).expect("saved"), first);
}

#[test]
fn save_under_json_keeps_the_result_as_mcp_json_and_says_on_stderr_where_it_went() {
    let home = TempDir::new("mcpcord-content");
    let dir = home.join("saved");
    std::fs::create_dir(&dir).expect("created");
    let dir_arg = dir.to_string_lossy().into_owned();
    let output = against_everything_in(
        home.path(),
        &["--json", "call", "get-tiny-image", "--save", &dir_arg],
    );
    assert_ok(&output);
    let document = json_of(&output.stdout, &output.stderr);
    assert_eq!(document["content"][1]["type"], "image");
    assert!(
        document["content"][1]["data"]
            .as_str()
            .is_some_and(|data| data.starts_with("iVBORw0KGgo")),
        "the image data, as the server sent it: {document}"
    );
    let path = dir.join("get-tiny-image.png");
    assert!(
        stderr(&output).contains(&format!("to {}", path.display())),
        "{}",
        stderr(&output)
    );
    assert!(path.is_file());
}

#[test]
fn save_into_something_that_is_not_a_directory_is_a_usage_error_before_connecting() {
    let output = against_everything(&["call", "get-tiny-image", "--save", "/dev/null"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not a directory"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn annotations_are_shown_with_priority_as_the_server_sent_it() {
    let args = r#"{"messageType":"success","includeImage":true}"#;
    let output = against_everything(&["call", "get-annotated-message", "--args", args]);
    assert_ok(&output);
    assert_eq!(
        line_starting(&output, "[text]"),
        "[text] (audience: user; priority: 0.7)"
    );
    let image = line_starting(&output, "[image]");
    assert!(
        image.ends_with("20x20 px (audience: user; priority: 0.5)"),
        "{image}"
    );
}

#[test]
fn json_numbers_keep_their_json_form() {
    let args = r#"{"messageType":"success"}"#;
    let output = against_everything(&["--json", "call", "get-annotated-message", "--args", args]);
    assert_ok(&output);
    let text = stdout(&output);
    assert!(text.contains("\"priority\": 0.7\n"), "{text}");
    assert!(!text.contains("0.699999988"), "{text}");
}

#[test]
fn resource_links_show_uri_name_type_and_description() {
    let output = against_everything(&["call", "get-resource-links", "--args", r#"{"count":2}"#]);
    assert_ok(&output);
    let text = stdout(&output);
    let links: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("[resource link] "))
        .collect();
    assert_eq!(links.len(), 2, "{text}");
    assert!(
        links[0].starts_with("[resource link] demo://resource/dynamic/"),
        "{text}"
    );
    assert!(links[0].contains(", text/plain - "), "{text}");
}

#[test]
fn an_embedded_text_resource_shows_uri_type_size_and_its_short_text() {
    let output = against_everything(&["call", "get-resource-reference"]);
    assert_ok(&output);
    let text = stdout(&output);
    let header = line_starting(&output, "[resource] ");
    assert!(
        header.starts_with("[resource] demo://resource/dynamic/text/1, text/plain, ")
            && header.ends_with(" bytes"),
        "{text}"
    );
    let mut lines = text
        .lines()
        .skip_while(|line| !line.starts_with("[resource] "));
    lines.next();
    assert!(
        lines
            .next()
            .is_some_and(|line| line.starts_with("  Resource 1: ")),
        "the embedded text, indented beneath: {text}"
    );
}

#[test]
fn prompt_save_writes_an_embedded_binary_resource_named_after_its_uri() {
    let home = TempDir::new("mcpcord-content");
    let dir = home.join("saved");
    std::fs::create_dir(&dir).expect("created");
    let dir_arg = dir.to_string_lossy().into_owned();
    let args = r#"{"resourceType":"Blob","resourceId":"1"}"#;
    let output = against_everything_in(
        home.path(),
        &[
            "prompt",
            "resource-prompt",
            "--args",
            args,
            "--save",
            &dir_arg,
        ],
    );
    assert_ok(&output);
    let path = dir.join("1.txt");
    let line = line_starting(&output, "user: [resource] ");
    assert!(
        line.starts_with("user: [resource] demo://resource/dynamic/blob/1, text/plain, ")
            && line.ends_with(&format!("saved to {}", path.display())),
        "{line}"
    );
    assert!(
        std::fs::read_to_string(&path)
            .expect("saved")
            .starts_with("Resource 1: "),
        "the decoded blob"
    );
}

#[test]
fn read_save_writes_a_binary_resource_named_after_its_uri() {
    let home = TempDir::new("mcpcord-content");
    let dir = home.join("saved");
    std::fs::create_dir(&dir).expect("created");
    let dir_arg = dir.to_string_lossy().into_owned();
    let uri = "demo://resource/dynamic/blob/3";
    let output = against_everything_in(home.path(), &["read", uri, "--save", &dir_arg]);
    assert_ok(&output);
    let path = dir.join("3.txt");
    assert_eq!(
        stdout(&output),
        format!(
            "{uri}: binary, text/plain, {} bytes, saved to {}\n",
            std::fs::metadata(&path).expect("saved").len(),
            path.display()
        )
    );
}

#[test]
fn structured_content_that_is_an_object_is_pretty_printed() {
    let home = TempDir::new("mcpcord-content");
    let output = mcpcord_command(MCPCORD, home.path())
        .args(["call", "add", "--args", r#"{"a":2,"b":3}"#])
        .args(["--", MCPCORD, "serve-demo", "--stdio"])
        .output()
        .expect("mcpcord runs");
    assert_ok(&output);
    assert!(
        stdout(&output).ends_with("structured:\n{\n  \"sum\": 5\n}\n"),
        "{}",
        stdout(&output)
    );
}

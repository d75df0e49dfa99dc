//! Rich content, readable: what a tool result, a prompt message or a resource holds besides text.
//!
//! Each item that is not plain text becomes one header line in brackets, what a person needs to
//! know about it: `[image] image/png, 1626 bytes, 20x20 px`, `[audio] audio/wav, 8044 bytes`,
//! `[resource link] URI, NAME, MIME, SIZE - DESCRIPTION`, `[resource] URI, MIME, SIZE` (with an
//! embedded text shown beneath when it is short), followed by its annotations (audience,
//! priority, last modified). Binary data is decoded only to be measured (and saved); data that is
//! not base64 is reported as such.
//!
//! `--save DIR` ([`SaveDir`]) writes each binary item to a new file whose name this module makes:
//! from a resource's URI (its last segment, with anything but `[A-Za-z0-9._-]` replaced) or from
//! the tool's or prompt's name, plus an extension from the mime type. A name taken already gets
//! `-2`, `-3`, ...: no file is overwritten, no name leaves the directory.
//!
//! With `--json` nothing is printed here (MCP's own JSON says it all); only the saving happens,
//! each file announced on stderr. What goes to stderr goes through `live`, so that no progress bar
//! tears it.
//!
//! Every string a server sent passes through `render::shown` (headers: one line) or
//! `render::shown_output` (embedded text).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use rmcp::model::{Annotations, ContentBlock, Resource, ResourceContents, Role};

use crate::live;
use crate::render::{one_line, shown_output};

/// An embedded text resource with at most this many lines is shown in full...
const SHORT_TEXT_LINES: usize = 20;

/// ... and at most this many bytes; a longer one is summarised (`--json` has it whole).
const SHORT_TEXT_BYTES: usize = 2 * 1024;

/// How many files named alike `--save` tries before giving up on a name.
const MAX_NAME_TRIES: usize = 10_000;

/// Standard base64 that takes padding or its absence: servers differ, the bytes do not.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The directory `--save DIR` writes binary items into.
#[derive(Debug)]
pub(crate) struct SaveDir {
    dir: PathBuf,
}

impl SaveDir {
    /// `dir`, checked to be a directory before anything is connected to (a usage error otherwise).
    pub(crate) fn open(dir: &Path) -> Result<Self, String> {
        if dir.is_dir() {
            Ok(Self {
                dir: dir.to_path_buf(),
            })
        } else {
            Err(format!("--save: {} is not a directory", dir.display()))
        }
    }

    /// Writes `bytes` to a new file named `name` (made a [`safe_name`] here too, whatever the
    /// caller did), or `STEM-2.EXT`, `STEM-3.EXT`, ... when that is taken. `create_new`: an
    /// existing file, or a link planted in its place, is never written through.
    pub(crate) fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, String> {
        self.write_with(name, |file| file.write_all(bytes))
    }

    /// [`write`](Self::write), the new file filled by `fill`. A file `fill` fails to fill is
    /// removed: a cut-off image under the name announced would pass for the real one.
    fn write_with(
        &self,
        name: &str,
        fill: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
    ) -> Result<PathBuf, String> {
        let name = safe_name(name);
        let (stem, extension) = match name.rsplit_once('.') {
            Some((stem, extension)) if !stem.is_empty() => (stem, Some(extension)),
            _ => (name.as_str(), None),
        };
        for attempt in 1..=MAX_NAME_TRIES {
            let candidate = match (attempt, extension) {
                (1, _) => name.clone(),
                (n, Some(extension)) => format!("{stem}-{n}.{extension}"),
                (n, None) => format!("{stem}-{n}"),
            };
            let path = self.dir.join(candidate);
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path);
            match file {
                Ok(mut file) => {
                    return match fill(&mut file) {
                        Ok(()) => Ok(path),
                        Err(error) => {
                            drop(file);
                            // Best effort: the error says what went wrong either way.
                            let _ = std::fs::remove_file(&path);
                            Err(format!("cannot write {}: {error}", path.display()))
                        }
                    };
                }
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(error) => return Err(format!("cannot create {}: {error}", path.display())),
            }
        }
        Err(format!(
            "{MAX_NAME_TRIES} files named like {name} already exist in {}",
            self.dir.display()
        ))
    }
}

/// A file name made from text a server chose: ASCII letters, digits, `.`, `-` and `_` kept,
/// anything else `_`, at most 100 characters, never empty, `.`, `..` or hidden. It holds no `/`,
/// so it names a file directly in the directory it is joined to.
pub(crate) fn safe_name(text: &str) -> String {
    let name: String = text
        .chars()
        .take(100)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with('.') {
        format!("item{}", name.trim_start_matches('.'))
    } else {
        name
    }
}

/// A file name for a resource: the last segment of its URI (without query or fragment), made
/// safe, with an extension from `mime` when it has none.
pub(crate) fn uri_file_name(uri: &str, mime: Option<&str>) -> String {
    let path = uri.split(['?', '#']).next().unwrap_or_default();
    let last = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    let name = if last.is_empty() || last.starts_with('.') || last.contains(':') {
        safe_name(&format!("resource{}", last.trim_start_matches('.')))
    } else {
        safe_name(last)
    };
    if name.contains('.') {
        name
    } else {
        format!("{name}.{}", extension(mime))
    }
}

/// The usual file extension of a mime type; `bin` for one not known here.
fn extension(mime: Option<&str>) -> &'static str {
    let essence = mime
        .and_then(|mime| mime.split(';').next())
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/svg+xml" => "svg",
        "image/bmp" => "bmp",
        "image/tiff" => "tiff",
        "image/avif" => "avif",
        "image/heic" => "heic",
        "image/x-icon" | "image/vnd.microsoft.icon" => "ico",
        "audio/wav" | "audio/x-wav" | "audio/wave" | "audio/vnd.wave" => "wav",
        "audio/mpeg" | "audio/mp3" => "mp3",
        "audio/ogg" | "application/ogg" => "ogg",
        "audio/flac" | "audio/x-flac" => "flac",
        "audio/webm" => "webm",
        "audio/mp4" | "audio/aac" => "m4a",
        "application/pdf" => "pdf",
        "application/json" => "json",
        "application/zip" => "zip",
        "application/gzip" => "gz",
        "text/plain" => "txt",
        "text/markdown" => "md",
        "text/html" => "html",
        "text/csv" => "csv",
        _ => "bin",
    }
}

/// Base64 as servers send it (padded or not, perhaps wrapped over lines), decoded.
fn decode(data: &str) -> Result<Vec<u8>, base64::DecodeError> {
    if data.bytes().any(|byte| byte.is_ascii_whitespace()) {
        let joined: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        BASE64.decode(joined)
    } else {
        BASE64.decode(data)
    }
}

/// What a piece of base64 data is: its size and, for an image whose header says so, its pixel
/// dimensions; or that it is not base64.
fn measure(mime: Option<&str>, data: &str) -> (String, Option<Vec<u8>>) {
    match decode(data) {
        Ok(bytes) => {
            let mut summary = format!("{} bytes", bytes.len());
            let image =
                mime.is_none_or(|mime| mime.trim().to_ascii_lowercase().starts_with("image/"));
            if image && let Ok(size) = imagesize::blob_size(&bytes) {
                summary.push_str(&format!(", {}x{} px", size.width, size.height));
            }
            (summary, Some(bytes))
        }
        Err(_) => (
            format!("invalid base64 ({} characters)", data.chars().count()),
            None,
        ),
    }
}

/// Annotations as a header's suffix: ` (audience: user; priority: 0.7; last modified: ...)`, or
/// nothing. `priority` is printed as the `f32` it is, so 0.7 stays 0.7.
pub(crate) fn annotations(annotations: Option<&Annotations>) -> String {
    let Some(annotations) = annotations else {
        return String::new();
    };
    let mut parts = Vec::new();
    if let Some(audience) = &annotations.audience {
        let roles: Vec<&str> = audience
            .iter()
            .map(|role| match role {
                Role::User => "user",
                Role::Assistant => "assistant",
            })
            .collect();
        parts.push(format!("audience: {}", roles.join(", ")));
    }
    if let Some(priority) = annotations.priority {
        parts.push(format!("priority: {priority}"));
    }
    if let Some(last_modified) = &annotations.last_modified {
        parts.push(format!("last modified: {}", one_line(last_modified)));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join("; "))
    }
}

/// The header line of a resource link: `URI, NAME, MIME, SIZE bytes - DESCRIPTION`.
fn link(resource: &Resource) -> String {
    let mut parts = vec![one_line(&resource.uri)];
    parts.push(one_line(
        resource.title.as_deref().unwrap_or(&resource.name),
    ));
    if let Some(mime) = &resource.mime_type {
        parts.push(one_line(mime));
    }
    if let Some(size) = resource.size {
        parts.push(format!("{size} bytes"));
    }
    let mut line = parts.join(", ");
    if let Some(description) = resource
        .description
        .as_deref()
        .filter(|text| !text.is_empty())
    {
        line.push_str(" - ");
        line.push_str(&one_line(description));
    }
    line
}

/// An embedded text, shown beneath its header when short, else summarised; each line indented.
fn embedded_text(text: &str) -> Vec<String> {
    let lines = text.lines().count();
    if lines <= SHORT_TEXT_LINES && text.len() <= SHORT_TEXT_BYTES {
        shown_output(text)
            .lines()
            .map(|line| format!("  {line}"))
            .collect()
    } else {
        vec![format!(
            "  ({lines} lines: too long to show here; --json shows it whole)"
        )]
    }
}

/// Prints content for people (nothing with `--json`) and saves its binary items with `--save`.
pub(crate) struct Printer<'a> {
    as_json: bool,
    save: Option<&'a SaveDir>,
    /// The name of files saved from items without a URI (a tool's or prompt's name).
    stem: String,
    /// The first failed save: under `--json` the command reports it instead of its result.
    error: Option<String>,
    /// Binary items shown without `--save`, for the hint at the end.
    unsaved: usize,
}

impl<'a> Printer<'a> {
    /// A printer for the output of the tool or prompt `name`, saving into `save` if given.
    pub(crate) fn new(as_json: bool, save: Option<&'a SaveDir>, name: &str) -> Self {
        Self {
            as_json,
            save,
            stem: safe_name(name),
            error: None,
            unsaved: 0,
        }
    }

    /// After the last item: in human output, when binary items were only measured, how to save
    /// them (once, on stderr, so stdout keeps only the content).
    pub(crate) fn done(&self) {
        if !self.as_json && self.unsaved > 0 {
            live::eprint_line("(--save DIR writes the binary items to files)");
        }
    }

    /// The first save that failed, if any (in human output each was said on stderr already).
    pub(crate) fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// One content block, each line after `prefix` (a prompt message's `user: `).
    pub(crate) fn block(&mut self, prefix: &str, block: &ContentBlock) {
        let lines = self.block_lines(block);
        self.print(prefix, &lines);
    }

    /// What [`block`](Self::block) prints (after saving the block's binary data with `--save`).
    pub(crate) fn block_lines(&mut self, block: &ContentBlock) -> Vec<String> {
        match block {
            ContentBlock::Text(text) => match text.annotations.as_ref() {
                None => vec![shown_output(&text.text)],
                Some(found) => vec![
                    format!("[text]{}", annotations(Some(found))),
                    shown_output(&text.text),
                ],
            },
            ContentBlock::Image(image) => {
                let mime = Some(image.mime_type.as_str());
                let file = format!("{}.{}", self.stem, extension(mime));
                let saved = self.binary(mime, &image.data, &file);
                vec![format!(
                    "[image] {}, {saved}{}",
                    one_line(&image.mime_type),
                    annotations(image.annotations.as_ref())
                )]
            }
            ContentBlock::Audio(audio) => {
                let mime = Some(audio.mime_type.as_str());
                let file = format!("{}.{}", self.stem, extension(mime));
                let saved = self.binary(mime, &audio.data, &file);
                vec![format!(
                    "[audio] {}, {saved}{}",
                    one_line(&audio.mime_type),
                    annotations(audio.annotations.as_ref())
                )]
            }
            ContentBlock::ResourceLink(resource) => vec![format!(
                "[resource link] {}{}",
                link(resource),
                annotations(resource.annotations.as_ref())
            )],
            ContentBlock::Resource(embedded) => {
                let suffix = annotations(embedded.annotations.as_ref());
                match &embedded.resource {
                    ResourceContents::TextResourceContents {
                        uri,
                        mime_type,
                        text,
                        ..
                    } => {
                        let mut lines = vec![format!(
                            "[resource] {}, {}, {} bytes{suffix}",
                            one_line(uri),
                            one_line(mime_type.as_deref().unwrap_or("text")),
                            text.len()
                        )];
                        lines.extend(embedded_text(text));
                        lines
                    }
                    ResourceContents::BlobResourceContents {
                        uri,
                        mime_type,
                        blob,
                        ..
                    } => vec![format!(
                        "[resource] {}, {}{suffix}",
                        one_line(uri),
                        self.blob(uri, mime_type.as_deref(), blob)
                    )],
                    // A kind of contents newer than this client: as JSON, whose escapes need
                    // only a bound.
                    other => vec![shown_output(
                        &serde_json::to_string(other).unwrap_or_default(),
                    )],
                }
            }
            // A kind of content newer than this client: as JSON, whose escapes need only a bound.
            other => vec![shown_output(
                &serde_json::to_string(other).unwrap_or_default(),
            )],
        }
    }

    /// "TYPE, SUMMARY" of a binary resource, saved (named after its URI) with `--save`: one place,
    /// so an embedded resource and a read one are named and summarised alike.
    fn blob(&mut self, uri: &str, mime: Option<&str>, data: &str) -> String {
        let saved = self.binary(mime, data, &uri_file_name(uri, mime));
        format!("{}, {saved}", one_line(mime.unwrap_or("unknown type")))
    }

    /// A resource's contents as `read` gives them: a text whole, binary contents measured (and
    /// saved, named after the URI).
    pub(crate) fn contents(&mut self, contents: &ResourceContents) {
        let lines = match contents {
            ResourceContents::TextResourceContents { text, .. } => vec![shown_output(text)],
            ResourceContents::BlobResourceContents {
                uri,
                mime_type,
                blob,
                ..
            } => vec![format!(
                "{}: binary, {}",
                one_line(uri),
                self.blob(uri, mime_type.as_deref(), blob)
            )],
            // A kind of contents newer than this client: as JSON, whose escapes need only a bound.
            other => vec![shown_output(
                &serde_json::to_string(other).unwrap_or_default(),
            )],
        };
        self.print("", &lines);
    }

    /// Measures a binary item and, with `--save`, writes it to `file` (or a free name like it):
    /// what the header says about it.
    fn binary(&mut self, mime: Option<&str>, data: &str, file: &str) -> String {
        let (summary, bytes) = measure(mime, data);
        let Some(dir) = self.save else {
            self.unsaved += usize::from(bytes.is_some());
            return summary;
        };
        let Some(bytes) = bytes else {
            self.failed(format!(
                "not saved: the server sent {summary} for {}",
                one_line(file)
            ));
            return format!("{summary}, not saved");
        };
        match dir.write(file, &bytes) {
            Ok(path) => {
                if self.as_json {
                    live::eprint_line(&format!("saved {} to {}", one_line(file), path.display()));
                }
                format!("{summary}, saved to {}", path.display())
            }
            Err(message) => {
                self.failed(message);
                format!("{summary}, not saved")
            }
        }
    }

    /// A failed save: said at once on stderr in human output; under `--json` the command reports
    /// it as its JSON error instead of its result.
    fn failed(&mut self, message: String) {
        if !self.as_json {
            live::eprint_line(&format!("mcpcord: {message}"));
        }
        self.error.get_or_insert(message);
    }

    fn print(&self, prefix: &str, lines: &[String]) {
        if self.as_json {
            return;
        }
        for (index, line) in lines.iter().enumerate() {
            if index == 0 {
                out!("{prefix}{line}");
            } else {
                out!("{}{line}", " ".repeat(prefix.chars().count()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use mcp_tests::support::TempDir;

    use super::*;

    /// A PNG's signature and IHDR chunk: all a reader of its dimensions needs.
    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        bytes.extend(width.to_be_bytes());
        bytes.extend(height.to_be_bytes());
        bytes.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
        bytes
    }

    fn gif(width: u16, height: u16) -> Vec<u8> {
        let mut bytes = b"GIF89a".to_vec();
        bytes.extend(width.to_le_bytes());
        bytes.extend(height.to_le_bytes());
        bytes.extend([0, 0, 0]);
        bytes
    }

    fn base64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn images_are_measured_in_bytes_and_pixels() {
        let (summary, bytes) = measure(Some("image/png"), &base64(&png(20, 10)));
        assert_eq!(summary, "33 bytes, 20x10 px");
        assert_eq!(bytes.map(|bytes| bytes.len()), Some(33));
        let (summary, _) = measure(Some("image/gif"), &base64(&gif(640, 480)));
        assert_eq!(summary, "13 bytes, 640x480 px");
        // SOI, then a baseline frame header: 8-bit, 16 rows of 32 columns, 3 components.
        let jpeg =
            b"\xff\xd8\xff\xc0\x00\x11\x08\x00\x10\x00\x20\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01";
        let (summary, _) = measure(Some("image/jpeg"), &base64(jpeg));
        assert_eq!(summary, "21 bytes, 32x16 px");
        // A RIFF WebP with a VP8X chunk: width and height minus one, 24-bit little-endian.
        let mut webp = b"RIFF\x16\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00".to_vec();
        webp.extend([99, 0, 0, 49, 0, 0]);
        let (summary, _) = measure(Some("image/webp"), &base64(&webp));
        assert_eq!(summary, "30 bytes, 100x50 px");
    }

    #[test]
    fn a_truncated_or_foreign_image_is_measured_in_bytes_only() {
        let truncated = &png(20, 10)[..14];
        assert_eq!(measure(Some("image/png"), &base64(truncated)).0, "14 bytes");
        assert_eq!(
            measure(Some("image/png"), &base64(b"not an image")).0,
            "12 bytes"
        );
        // Audio is never taken for an image, whatever its first bytes.
        assert_eq!(
            measure(Some("audio/wav"), &base64(&png(2, 2))).0,
            "33 bytes"
        );
    }

    #[test]
    fn base64_is_accepted_unpadded_and_wrapped_and_bad_base64_is_reported() {
        assert_eq!(decode("aGk=").ok(), Some(b"hi".to_vec()));
        assert_eq!(decode("aGk").ok(), Some(b"hi".to_vec()));
        assert_eq!(decode("aG\nk=").ok(), Some(b"hi".to_vec()));
        let (summary, bytes) = measure(Some("image/png"), "not*base64!");
        assert_eq!(summary, "invalid base64 (11 characters)");
        assert!(bytes.is_none());
    }

    #[test]
    fn annotations_show_audience_priority_as_sent_and_last_modified() {
        let mut found = Annotations::default()
            .with_audience(vec![Role::User, Role::Assistant])
            .with_priority(0.7);
        found.last_modified = Some("2025-01-31T12:00:00Z".to_owned());
        assert_eq!(
            annotations(Some(&found)),
            " (audience: user, assistant; priority: 0.7; last modified: 2025-01-31T12:00:00Z)"
        );
        assert_eq!(annotations(None), "");
        assert_eq!(annotations(Some(&Annotations::default())), "");
    }

    #[test]
    fn resource_links_show_uri_name_type_size_and_description_on_one_line() {
        let mut resource = Resource::new("demo://a\u{1b}[2J", "a\nname");
        resource.mime_type = Some("text/plain".to_owned());
        resource.size = Some(42);
        resource.description = Some("what it is".to_owned());
        assert_eq!(
            link(&resource),
            "demo://a [2J, a name, text/plain, 42 bytes - what it is"
        );
    }

    #[test]
    fn short_embedded_text_is_shown_indented_and_long_text_is_summarised() {
        assert_eq!(embedded_text("one\ntwo"), ["  one", "  two"]);
        let long = "line\n".repeat(SHORT_TEXT_LINES + 1);
        assert_eq!(
            embedded_text(&long),
            ["  (21 lines: too long to show here; --json shows it whole)"]
        );
        let wide = "x".repeat(SHORT_TEXT_BYTES + 1);
        assert_eq!(embedded_text(&wide).len(), 1);
    }

    #[test]
    fn extensions_come_from_the_mime_type_and_unknown_types_are_bin() {
        assert_eq!(extension(Some("image/png")), "png");
        assert_eq!(extension(Some("IMAGE/JPEG; q=1")), "jpg");
        assert_eq!(extension(Some("audio/wav")), "wav");
        assert_eq!(extension(Some("application/x-unknown")), "bin");
        assert_eq!(extension(None), "bin");
    }

    #[test]
    fn file_names_are_the_uris_last_segment_made_safe() {
        assert_eq!(uri_file_name("demo://images/cat.png", None), "cat.png");
        assert_eq!(
            uri_file_name("file:///tmp/a%20b.txt?x=1#y", None),
            "a_20b.txt"
        );
        assert_eq!(
            uri_file_name("demo://items/", Some("text/plain")),
            "items.txt"
        );
        assert_eq!(
            uri_file_name("demo://resource/dynamic/blob/1", Some("image/png")),
            "1.png"
        );
    }

    #[test]
    fn file_names_never_leave_the_directory_or_hide() {
        for uri in [
            "demo://x/..",
            "demo://x/.",
            "demo://x/.bashrc",
            "demo:",
            "",
            "/",
            "..\\..\\windows",
        ] {
            let name = uri_file_name(uri, None);
            assert!(!name.starts_with('.'), "{uri:?} gave {name:?}");
            assert!(!name.contains(['/', '\\', ':']), "{uri:?} gave {name:?}");
        }
        for text in ["../../etc/passwd", "..", ".", "", "a/b", "\u{1b}[31m"] {
            let name = safe_name(text);
            assert!(
                !name.is_empty() && !name.starts_with('.'),
                "{text:?} gave {name:?}"
            );
            assert!(!name.contains(['/', '\\']), "{text:?} gave {name:?}");
        }
    }

    /// The names of the files in `dir`, sorted.
    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|entry| entry.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    #[test]
    fn saving_never_overwrites_and_numbers_the_names_taken() {
        let scratch = TempDir::new("mcpcord-content");
        let dir = SaveDir::open(scratch.path()).expect("a directory");
        let first = dir.write("tiny.png", b"one").expect("saved");
        let escaped = dir.write("../../tiny.png", b"up").expect("saved");
        assert_eq!(
            escaped,
            scratch.join("item_.._tiny.png"),
            "never outside DIR"
        );
        let second = dir.write("tiny.png", b"two").expect("saved");
        dir.write("blob", b"three").expect("saved");
        let bare_again = dir.write("blob", b"four").expect("saved");
        assert_eq!(first, scratch.join("tiny.png"));
        assert_eq!(second, scratch.join("tiny-2.png"));
        assert_eq!(bare_again, scratch.join("blob-2"));
        assert_eq!(std::fs::read(&first).ok(), Some(b"one".to_vec()));
        assert_eq!(std::fs::read(&second).ok(), Some(b"two".to_vec()));
        assert!(SaveDir::open(Path::new("/dev/null")).is_err());
    }

    #[test]
    fn a_bad_image_is_reported_not_saved_and_never_a_panic() {
        let scratch = TempDir::new("mcpcord-content");
        let dir = SaveDir::open(scratch.path()).expect("a directory");
        let mut printer = Printer::new(true, Some(&dir), "tool");
        printer.block("", &ContentBlock::image("%%%", "image/png"));
        assert!(
            printer
                .error()
                .is_some_and(|error| error.contains("invalid base64")),
            "{:?}",
            printer.error()
        );
        assert!(names(scratch.path()).is_empty());
    }

    #[test]
    fn items_without_a_uri_are_saved_under_the_tools_name_made_safe() {
        let scratch = TempDir::new("mcpcord-content");
        let dir = SaveDir::open(scratch.path()).expect("a directory");
        let mut printer = Printer::new(true, Some(&dir), "../get image");
        printer.block("", &ContentBlock::image(base64(&png(1, 1)), "image/png"));
        printer.block("", &ContentBlock::audio(base64(b"RIFF"), "audio/wav"));
        printer.block("", &ContentBlock::image(base64(&png(1, 1)), "image/png"));
        assert_eq!(printer.error(), None);
        assert_eq!(
            names(scratch.path()),
            [
                "item_get_image-2.png",
                "item_get_image.png",
                "item_get_image.wav"
            ]
        );
    }

    #[test]
    fn each_kind_of_block_is_one_readable_header_line() {
        let mut printer = Printer::new(false, None, "tool");
        assert_eq!(
            printer.block_lines(&ContentBlock::audio(base64(b"RIFF0000WAVE"), "audio/wav")),
            ["[audio] audio/wav, 12 bytes"]
        );
        let mut image = ContentBlock::image(base64(&png(3, 2)), "image/png");
        if let ContentBlock::Image(content) = &mut image {
            content.annotations = Some(Annotations::default().with_priority(0.25));
        }
        assert_eq!(
            printer.block_lines(&image),
            ["[image] image/png, 33 bytes, 3x2 px (priority: 0.25)"]
        );
        let blob = ResourceContents::blob(base64(&gif(1, 1)), "demo://pics/dot.gif")
            .with_mime_type("image/gif");
        assert_eq!(
            printer.block_lines(&ContentBlock::resource(blob)),
            ["[resource] demo://pics/dot.gif, image/gif, 13 bytes, 1x1 px"]
        );
        assert_eq!(
            printer.block_lines(&ContentBlock::embedded_text("demo://t", "one\ntwo")),
            ["[resource] demo://t, text/plain, 7 bytes", "  one", "  two"]
        );
        assert_eq!(printer.block_lines(&ContentBlock::text("plain")), ["plain"]);
        assert_eq!(printer.unsaved, 3, "the binary items, for the hint");
    }

    #[test]
    fn what_a_server_sends_is_shown_without_control_characters() {
        let mut printer = Printer::new(false, None, "tool");
        let lines =
            printer.block_lines(&ContentBlock::audio("%%", "audio/\u{1b}]0;x\u{7}wav\nfake"));
        assert_eq!(
            lines,
            ["[audio] audio/ ]0;x wav fake, invalid base64 (2 characters)"]
        );
        let lines = printer.block_lines(&ContentBlock::embedded_text(
            "demo://t\r",
            "a\u{1b}[2Jb\r\nc",
        ));
        assert_eq!(
            lines,
            [
                "[resource] demo://t , text/plain, 9 bytes",
                "  a [2Jb ",
                "  c"
            ]
        );
    }

    #[test]
    fn a_file_that_cannot_be_filled_is_removed() {
        let dir = TempDir::new("mcpcord-save-fails");
        let save = SaveDir::open(dir.path()).expect("a directory");
        let error = save
            .write_with("cut.png", |file| {
                file.write_all(b"\x89PNG")?;
                Err(std::io::Error::other("disk full"))
            })
            .expect_err("the write fails");
        assert!(error.contains("cannot write"), "{error}");
        assert!(error.contains("disk full"), "{error}");
        assert!(!dir.join("cut.png").exists(), "the partial file is left");
        // The name is free again for the next save.
        let path = save.write("cut.png", b"whole").expect("written");
        assert_eq!(path, dir.join("cut.png"));
    }

    /// The start of each image format the header reader knows, so that the bytes after it reach
    /// that format's parser.
    const MAGIC: [(&str, &[u8]); 9] = [
        ("image/png", b"\x89PNG\r\n\x1a\n"),
        ("image/jpeg", b"\xff\xd8\xff"),
        ("image/gif", b"GIF89a"),
        ("image/webp", b"RIFF\0\0\0\0WEBPVP8"),
        ("image/bmp", b"BM"),
        ("image/heif", b"\0\0\0\x18ftypheic"),
        ("image/tiff", b"II*\0"),
        ("image/x-icon", b"\0\0\x01\0"),
        ("image/svg+xml", b"<svg"),
    ];

    proptest::proptest! {
        #[test]
        fn measure_never_panics_on_arbitrary_bytes_of_any_image_type(
            format in 0..MAGIC.len(),
            tail in proptest::collection::vec(proptest::num::u8::ANY, 0..256),
            with_magic in proptest::bool::ANY,
        ) {
            let (mime, magic) = MAGIC[format];
            let mut bytes = if with_magic { magic.to_vec() } else { Vec::new() };
            bytes.extend(tail);
            let data = BASE64.encode(&bytes);
            let (summary, decoded) = measure(Some(mime), &data);
            let size = format!("{} bytes", bytes.len());
            proptest::prop_assert!(summary.starts_with(&size), "{}", summary);
            proptest::prop_assert_eq!(decoded, Some(bytes));
        }

        #[test]
        fn measure_never_panics_on_text_that_is_not_base64(data in ".{0,200}") {
            let _ = measure(Some("image/png"), &data);
            let _ = measure(None, &data);
        }
    }
}

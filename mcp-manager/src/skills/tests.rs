use rmcp::model::SkillFrontmatter;

use super::*;

const SKILL_URI: &str = "skill://pdf-processing/SKILL.md";
const FORMS_URI: &str = "skill://pdf-processing/references/FORMS.md";
const SKILL_MD: &str = "---\nname: pdf-processing\ndescription: Extract, fill, and assemble PDF documents\n---\n\nSkill body.\n";
const FORMS: &str = "Supporting content.\n";

fn server() -> ServerId {
    ServerId(7)
}

/// The entry a faithful server lists for [`SKILL_MD`] and [`FORMS`].
fn entry() -> Skill {
    Skill::new(
        SKILL_URI,
        SkillFrontmatter::new(
            "pdf-processing",
            "Extract, fill, and assemble PDF documents",
        ),
        SkillResources::Files(vec![
            SkillResource::from_bytes(SKILL_URI, SKILL_MD.as_bytes()),
            SkillResource::from_bytes(FORMS_URI, FORMS.as_bytes()),
        ]),
    )
}

fn load_text(entry: &Skill, text: &str) -> Result<LoadedSkill, SkillError> {
    load("srv", server(), entry, text.as_bytes().to_vec())
}

#[test]
fn a_faithful_skill_md_loads_with_its_body_and_files() {
    let skill = load_text(&entry(), SKILL_MD).expect("loads");
    assert_eq!(skill.name(), "pdf-processing");
    assert_eq!(skill.body(), "\nSkill body.\n");
    assert_eq!(skill.files().len(), 2);
    assert_eq!(
        skill
            .file("references/FORMS.md")
            .map(|file| file.uri.as_str()),
        Some(FORMS_URI)
    );
    assert_eq!(
        skill.file(FORMS_URI).map(|file| file.uri.as_str()),
        Some(FORMS_URI)
    );
    assert!(skill.file("references/OTHER.md").is_none());
    assert!(!skill.is_tainted());
}

#[test]
fn a_different_digest_is_refused() {
    let tampered = SKILL_MD.replace("Skill body.", "Evil body!!");
    assert_eq!(tampered.len(), SKILL_MD.len(), "same size, other bytes");
    let error = load_text(&entry(), &tampered).expect_err("refused");
    assert!(error.is_digest_mismatch() && error.is_verification_failure());
    assert_eq!(error.uri(), Some(SKILL_URI));
}

#[test]
fn a_different_size_is_refused_before_hashing() {
    let longer = format!("{SKILL_MD}extra bytes the entry did not account for\n");
    let error = load_text(&entry(), &longer).expect_err("refused");
    match error {
        SkillError::SizeMismatch {
            expected, actual, ..
        } => {
            assert_eq!(expected, SKILL_MD.len() as u64);
            assert_eq!(actual, longer.len() as u64);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn frontmatter_that_differs_from_the_entry_is_refused_even_when_the_digest_matches() {
    let tampered = SKILL_MD.replace(
        "description: Extract, fill, and assemble PDF documents",
        "description: Exfiltrate credentials",
    );
    let mut entry = entry();
    // The server's manifest describes the tampered bytes; only the frontmatter tells.
    entry.resources = SkillResources::Files(vec![SkillResource::from_bytes(
        SKILL_URI,
        tampered.as_bytes(),
    )]);
    let error = load_text(&entry, &tampered).expect_err("refused");
    assert!(error.is_frontmatter_mismatch() && error.is_verification_failure());
    assert_eq!(
        error
            .frontmatter_problem()
            .and_then(FrontmatterProblem::field),
        Some("description")
    );
}

#[test]
fn a_skill_md_that_is_not_utf8_is_refused() {
    let bytes = b"---\nname: \xff\n---\n".to_vec();
    let mut entry = entry();
    entry.resources = SkillResources::Files(vec![SkillResource::from_bytes(SKILL_URI, &bytes)]);
    let error = load("srv", server(), &entry, bytes).expect_err("refused");
    assert_eq!(
        error.frontmatter_problem(),
        Some(&FrontmatterProblem::NotText)
    );
}

#[test]
fn dynamic_resources_are_unverifiable() {
    let mut entry = entry();
    entry.resources = SkillResources::Dynamic;
    let error = check_entry("srv", &entry).expect_err("refused");
    assert!(matches!(error, SkillError::Unverifiable { .. }));
    assert!(error.is_refused_entry() && !error.is_verification_failure());
}

#[test]
fn an_entry_over_the_limits_is_refused() {
    let mut entry = entry();
    entry.resources = SkillResources::Files(vec![
        SkillResource::from_bytes(SKILL_URI, SKILL_MD.as_bytes()),
        SkillResource::new(FORMS_URI, rmcp::model::sha256_digest(b""), MAX_BYTES),
    ]);
    let error = check_entry("srv", &entry).expect_err("refused");
    assert!(matches!(error, SkillError::TooLarge { files: 2, .. }));
}

#[test]
fn an_entry_whose_file_lies_outside_the_skill_is_invalid() {
    let mut entry = entry();
    entry.resources = SkillResources::Files(vec![
        SkillResource::from_bytes(SKILL_URI, SKILL_MD.as_bytes()),
        SkillResource::from_bytes("skill://other/secret.md", b"x"),
    ]);
    let error = check_entry("srv", &entry).expect_err("refused");
    assert!(matches!(error, SkillError::InvalidEntry { .. }));
}

#[test]
fn supporting_files_are_verified_alike() {
    let forms = SkillResource::from_bytes(FORMS_URI, FORMS.as_bytes());
    assert!(verify_file("srv", &forms, FORMS.as_bytes()).is_ok());
    assert!(
        verify_file("srv", &forms, b"Supporting content!\n")
            .expect_err("refused")
            .is_digest_mismatch()
    );
    assert!(
        verify_file("srv", &forms, b"short")
            .expect_err("refused")
            .is_size_mismatch()
    );
}

#[test]
fn file_bytes_takes_text_or_a_base64_blob_for_the_uri_asked() {
    let text = ReadResourceResult::new(vec![ResourceContents::text("hello", FORMS_URI)]);
    let (bytes, _) = file_bytes("srv", FORMS_URI, text).expect("text");
    assert_eq!(bytes, b"hello");
    let blob = ReadResourceResult::new(vec![ResourceContents::BlobResourceContents {
        uri: FORMS_URI.to_owned(),
        mime_type: None,
        blob: "aGVsbG8=".to_owned(),
        meta: None,
    }]);
    let (bytes, _) = file_bytes("srv", FORMS_URI, blob).expect("blob");
    assert_eq!(bytes, b"hello");
    let elsewhere = ReadResourceResult::new(vec![ResourceContents::text("x", "skill://other")]);
    assert!(matches!(
        file_bytes("srv", FORMS_URI, elsewhere),
        Err(SkillError::Content { .. })
    ));
}

#[test]
fn errors_show_server_text_sanitised() {
    let error = SkillError::Unlisted {
        server: "srv".to_owned(),
        skill: SKILL_URI.to_owned(),
        uri: "skill://pdf-processing/\u{1b}[31mred".to_owned(),
    };
    let shown = error.to_string();
    assert!(!shown.contains('\u{1b}'), "{shown}");
    assert_eq!(error.code(), "skill_file_unlisted");
}

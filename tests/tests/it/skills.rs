//! Skills (SEP-2640) through the Manager against the fixture server, in both protocol eras:
//! listing, loading with verification, supporting files read on demand, and refusals.

use mcp_manager::config::{ProtocolEra, ServerConfig};
use mcp_manager::{CallError, Manager, ManagerOptions, ServerId, SkillError};
use mcp_tests::fixture::{
    NOTES_GUIDE, NOTES_GUIDE_URI, NOTES_SKILL_MD, NOTES_SKILL_URI, NOTES_STALE_URI,
    TAMPERED_SKILL_URI,
};
use mcp_tests::support::stdio_fixture_args;

use crate::FIXTURE;

const ERAS: [ProtocolEra; 2] = [ProtocolEra::Modern, ProtocolEra::Legacy];

async fn connected(era: ProtocolEra) -> (Manager, ServerId) {
    let manager = Manager::new(ManagerOptions::default()).expect("a manager");
    let config = ServerConfig::stdio(FIXTURE, stdio_fixture_args(&[])).with_protocol(era);
    let id = manager
        .connect("fixture", &config)
        .await
        .expect("connected");
    (manager, id)
}

async fn entry(manager: &Manager, id: ServerId, uri: &str) -> mcp_manager::model::Skill {
    manager
        .list_skills(id)
        .await
        .expect("listed")
        .into_iter()
        .find(|skill| skill.uri == uri)
        .expect("listed skill")
}

#[tokio::test]
async fn a_faithful_skill_loads_and_its_listed_files_read_verified() {
    for era in ERAS {
        let (manager, id) = connected(era).await;
        let skills = manager.list_skills(id).await.expect("listed");
        assert_eq!(skills.len(), 2, "{era:?}");
        let notes = entry(&manager, id, NOTES_SKILL_URI).await;
        let skill = manager.load_skill(id, &notes).await.expect("loaded");
        assert_eq!(skill.text(), NOTES_SKILL_MD);
        assert_eq!(skill.name(), "fixture-notes");
        assert!(skill.body().starts_with("\n# Notes"));
        let guide = manager
            .read_skill_file(&skill, "references/GUIDE.md")
            .await
            .expect("guide");
        assert_eq!(guide.uri(), NOTES_GUIDE_URI);
        assert_eq!(guide.text(), Some(NOTES_GUIDE));
        manager.shutdown(std::time::Duration::from_secs(2)).await;
    }
}

#[tokio::test]
async fn a_skill_md_that_differs_from_its_entry_is_refused() {
    let (manager, id) = connected(ProtocolEra::Modern).await;
    let tampered = entry(&manager, id, TAMPERED_SKILL_URI).await;
    let error = manager
        .load_skill(id, &tampered)
        .await
        .expect_err("refused");
    assert!(error.is_digest_mismatch(), "{error}");
    assert_eq!(error.uri(), Some(TAMPERED_SKILL_URI));
}

#[tokio::test]
async fn a_supporting_file_that_fails_verification_stops_the_skill_reading() {
    let (manager, id) = connected(ProtocolEra::Modern).await;
    let notes = entry(&manager, id, NOTES_SKILL_URI).await;
    let skill = manager.load_skill(id, &notes).await.expect("loaded");
    let stale = manager
        .read_skill_file(&skill, NOTES_STALE_URI)
        .await
        .expect_err("refused");
    assert!(stale.is_digest_mismatch(), "{stale}");
    assert!(skill.is_tainted());
    // Even a good file is no longer read from this load of the skill.
    let after = manager
        .read_skill_file(&skill, "references/GUIDE.md")
        .await
        .expect_err("refused");
    assert!(
        matches!(after, SkillError::Tainted { .. }) && after.is_verification_failure(),
        "{after}"
    );
    // Loading again starts from a clean slate.
    let again = manager.load_skill(id, &notes).await.expect("loaded");
    assert!(
        manager
            .read_skill_file(&again, "references/GUIDE.md")
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_file_the_entry_does_not_list_is_refused_unread() {
    let (manager, id) = connected(ProtocolEra::Modern).await;
    let notes = entry(&manager, id, NOTES_SKILL_URI).await;
    let skill = manager.load_skill(id, &notes).await.expect("loaded");
    let error = manager
        .read_skill_file(&skill, "references/NEW.md")
        .await
        .expect_err("refused");
    assert!(
        error.is_unlisted() && error.is_verification_failure(),
        "{error}"
    );
    // The extension counts it as a digest mismatch: the skill reads nothing further.
    assert!(skill.is_tainted());
}

#[tokio::test]
async fn get_skill_gives_the_listed_entry_and_an_unknown_uri_is_invalid_params() {
    let (manager, id) = connected(ProtocolEra::Modern).await;
    let listed = entry(&manager, id, NOTES_SKILL_URI).await;
    let got = manager
        .get_skill(id, NOTES_SKILL_URI)
        .await
        .expect("the entry");
    assert_eq!(got, listed);
    let error = manager
        .get_skill(id, "skill://nowhere/SKILL.md")
        .await
        .expect_err("unknown");
    assert!(
        matches!(
            error.call_error(),
            Some(CallError::Rpc { code: -32602, .. })
        ),
        "{error}"
    );
}

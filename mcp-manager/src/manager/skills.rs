//! The [`Manager`]'s skills methods (SEP-2640): list, get, load, read a file. What a loaded skill
//! is, and the checks, are in [`crate::skills`]; here they meet the request path.

use std::collections::HashSet;
use std::sync::Arc;

use rmcp::model::{
    ClientRequest, GetSkillRequest, GetSkillRequestParams, ListSkillsRequest,
    PaginatedRequestParams, ReadResourceRequestParams, ServerResult, Skill,
};

use super::Manager;
use super::session::{Connection, Locked};
use crate::ServerId;
use crate::skills::{self, LoadedSkill, MAX_PAGES, SkillError, SkillFile};

impl Manager {
    /// Every skill the server lists (`skills/list`, every page), as entries: each skill's
    /// frontmatter and the manifest of its files. No file is read.
    ///
    /// # Errors
    /// [`SkillError::NotOffered`] (nothing sent) when the server does not declare the skills
    /// extension; [`SkillError::Call`] when a request fails; [`SkillError::Malformed`] or
    /// [`SkillError::EndlessListing`] for an answer that is not a listing, or never ends.
    pub async fn list_skills(&self, id: ServerId) -> Result<Vec<Skill>, SkillError> {
        let connection = self.skills_connection(id)?;
        let mut skills = Vec::new();
        let mut seen = HashSet::new();
        let mut cursor = None;
        for _ in 0..MAX_PAGES {
            let params = PaginatedRequestParams::default().with_cursor(cursor);
            let request = ClientRequest::ListSkillsRequest(ListSkillsRequest::with_param(params));
            let ServerResult::ListSkillsResult(page) = self.request(&connection, request).await?
            else {
                return Err(SkillError::Malformed {
                    server: connection.name.clone(),
                    method: "skills/list",
                });
            };
            skills.extend(page.skills);
            let Some(next) = page.next_cursor else {
                return Ok(skills);
            };
            if !seen.insert(next.clone()) {
                break;
            }
            cursor = Some(next);
        }
        Err(SkillError::EndlessListing {
            server: connection.name.clone(),
        })
    }

    /// The entry of the skill whose `SKILL.md` is at `uri` (`skills/get`): for a skill known by
    /// its URI alone, or to refresh an entry after a verification failure. No file is read.
    ///
    /// # Errors
    /// As for [`list_skills`](Self::list_skills); a URI the server does not serve a skill at is
    /// its JSON-RPC error (`-32602`), a [`SkillError::Call`].
    pub async fn get_skill(&self, id: ServerId, uri: &str) -> Result<Skill, SkillError> {
        let connection = self.skills_connection(id)?;
        let request = ClientRequest::GetSkillRequest(GetSkillRequest::new(
            GetSkillRequestParams::new(uri.to_owned()),
        ));
        match self.request(&connection, request).await? {
            ServerResult::GetSkillResult(result) => Ok(result.skill),
            _ => Err(SkillError::Malformed {
                server: connection.name.clone(),
                method: "skills/get",
            }),
        }
    }

    /// Loads a skill from its entry (as [`list_skills`](Self::list_skills) or
    /// [`get_skill`](Self::get_skill) gave it): reads its `SKILL.md` and hands it out only if its
    /// size and digest match the entry and its frontmatter equals the entry's field by field.
    /// No other file is read.
    ///
    /// # Errors
    /// Before anything is read: [`SkillError::InvalidEntry`], [`SkillError::Unverifiable`]
    /// (`"dynamic"` resources) or [`SkillError::TooLarge`]. After the read: a verification
    /// failure ([`SkillError::is_verification_failure`]: size, digest or frontmatter), or
    /// [`SkillError::Content`]; a failed request is [`SkillError::Call`].
    pub async fn load_skill(&self, id: ServerId, entry: &Skill) -> Result<LoadedSkill, SkillError> {
        let connection = self.skills_connection(id)?;
        // Refused before any read: an entry that cannot be verified is never fetched.
        skills::check_entry(&connection.name, entry)?;
        let (bytes, _) = self.read_bytes(&connection, &entry.uri).await?;
        skills::load(&connection.name, id, entry, bytes)
    }

    /// Reads one file of a loaded skill, from the server the skill came from: `path` is its URI
    /// as the entry lists it, or a path relative to the skill's root (`references/FORMS.md`).
    /// The file is handed out only if its size and digest match the entry.
    ///
    /// # Errors
    /// [`SkillError::Unlisted`] (nothing read) for a file the entry does not list;
    /// [`SkillError::Tainted`] (nothing read) once a file of this skill has failed verification;
    /// a size or digest mismatch; [`SkillError::Content`] or [`SkillError::Call`] when the read
    /// fails. A mismatch and an unlisted file taint the skill (the extension counts both as
    /// verification failures: the entry no longer describes the server's skill); load it again,
    /// from a fresh entry, to read on.
    pub async fn read_skill_file(
        &self,
        skill: &LoadedSkill,
        path: &str,
    ) -> Result<SkillFile, SkillError> {
        let connection = self.connection(skill.server())?;
        if skill.is_tainted() {
            return Err(SkillError::Tainted {
                server: connection.name.clone(),
                skill: skill.uri().to_owned(),
            });
        }
        let Some(entry) = skill.file(path) else {
            skill.taint();
            return Err(SkillError::Unlisted {
                server: connection.name.clone(),
                skill: skill.uri().to_owned(),
                uri: path.to_owned(),
            });
        };
        let (bytes, mime_type) = self.read_bytes(&connection, &entry.uri).await?;
        if let Err(failure) = skills::verify_file(&connection.name, entry, &bytes) {
            skill.taint();
            return Err(failure);
        }
        Ok(skills::skill_file(entry.uri.clone(), mime_type, bytes))
    }

    /// The connection, if its server declares the skills extension.
    fn skills_connection(&self, id: ServerId) -> Result<Arc<Connection>, SkillError> {
        let connection = self.connection(id)?;
        let offered = connection.discovery.locked().capabilities.supports_skills();
        if !offered {
            return Err(SkillError::NotOffered {
                server: connection.name.clone(),
            });
        }
        Ok(connection)
    }

    /// The bytes of the resource at `uri`, read with `resources/read`.
    async fn read_bytes(
        &self,
        connection: &Arc<Connection>,
        uri: &str,
    ) -> Result<(Vec<u8>, Option<String>), SkillError> {
        let request = ClientRequest::ReadResourceRequest(rmcp::model::Request::new(
            ReadResourceRequestParams::new(uri.to_owned()),
        ));
        match self.request(connection, request).await? {
            ServerResult::ReadResourceResult(result) => {
                skills::file_bytes(&connection.name, uri, result)
            }
            _ => Err(SkillError::Content {
                server: connection.name.clone(),
                uri: uri.to_owned(),
                detail: "a result that is not a resource's contents",
            }),
        }
    }
}

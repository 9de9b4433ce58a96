//! The organization's mail templates: the default text of each (in
//! `engine::notify`) unless an administrator replaced it. Reading and
//! changing them needs `manage_settings`; each change writes audit rows.

use crate::domain::notification::{MailTemplate, MailTemplateKey, MailTemplateText};
use crate::domain::{ApiError, Capability, FieldErrors};
use crate::engine::notify::{MAIL_PLACEHOLDERS, TemplateText, check_template, default_template};
use crate::engine::ticket_change::FieldChange;
use crate::server::audit::{self, Origin, Owner};
use crate::server::auth::Principal;
use crate::server::db::notifications as store;
use crate::server::db::{Db, Tx};
use crate::server::error::AppResult;
use crate::server::state::AppState;
use chrono::Utc;
use uuid::Uuid;

/// The text `key` has in `org`: the administrator's, else the default.
pub async fn text(db: &Db, org: Uuid, key: MailTemplateKey) -> Result<TemplateText, sqlx::Error> {
    Ok(store::template(db, org, key)
        .await?
        .map_or_else(|| default_template(key), |(_, text)| text))
}

fn view(key: MailTemplateKey, text: TemplateText, customized: bool) -> MailTemplate {
    MailTemplate {
        key,
        label: key.label().to_owned(),
        subject: text.subject,
        body: text.body,
        customized,
        placeholders: MAIL_PLACEHOLDERS.iter().map(|p| (*p).to_owned()).collect(),
    }
}

/// A key from a path: one this build does not know names nothing (404).
fn key_of(raw: &str) -> Result<MailTemplateKey, ApiError> {
    MailTemplateKey::parse(raw).ok_or_else(ApiError::not_found)
}

/// Every template of the caller's organization, in a fixed order.
pub async fn list(state: &AppState, caller: &Principal) -> AppResult<Vec<MailTemplate>> {
    caller.require(Capability::ManageSettings)?;
    let changed = store::templates(&state.db, caller.org()).await?;
    Ok(MailTemplateKey::ALL
        .iter()
        .map(|key| match changed.iter().find(|(k, _)| k == key) {
            Some((_, text)) => view(*key, text.clone(), true),
            None => view(*key, default_template(*key), false),
        })
        .collect())
}

/// One template (`key` as the path has it).
pub async fn get(state: &AppState, caller: &Principal, key: &str) -> AppResult<MailTemplate> {
    let key = key_of(key)?;
    caller.require(Capability::ManageSettings)?;
    Ok(match store::template(&state.db, caller.org(), key).await? {
        Some((_, text)) => view(key, text, true),
        None => view(key, default_template(key), false),
    })
}

/// Replaces the text of `key`; unknown placeholders and empty or overlong
/// parts are 422 with a message on the field.
pub async fn save(
    state: &AppState,
    caller: &Principal,
    origin: &Origin,
    key: &str,
    new: &MailTemplateText,
) -> AppResult<MailTemplate> {
    let key = key_of(key)?;
    caller.require(Capability::ManageSettings)?;
    let person = caller.person()?;
    let text = TemplateText {
        subject: new.subject.trim().to_owned(),
        body: new.body.clone(),
    };
    let mut errs = FieldErrors::new();
    check_template(&mut errs, &text);
    errs.into_result()?;
    let org = caller.org();
    let old = self::text(&state.db, org, key).await?;
    let mut tx = state.db.begin().await?;
    let id = store::save_template(&mut tx, org, key, &text, person.id, Utc::now()).await?;
    let lines = audit::changes([
        (
            "mail_template.subject",
            Some(old.subject),
            Some(text.subject.clone()),
        ),
        (
            "mail_template.body",
            Some(old.body),
            Some(text.body.clone()),
        ),
    ]);
    let mut lines = lines;
    // Which template: the row's id is the owner, its key a line of its own.
    lines.insert(
        0,
        audit::line("mail_template", None, Some(key.as_str().to_owned())),
    );
    commit_audited(tx, caller, origin, id, &lines).await?;
    Ok(view(key, text, true))
}

/// Writes the audit `lines` of the template row `id`, changed by `caller`,
/// and commits the change.
async fn commit_audited(
    mut tx: Tx,
    caller: &Principal,
    origin: &Origin,
    id: Uuid,
    lines: &[FieldChange],
) -> AppResult<()> {
    let org = Some(caller.org());
    let owner = Owner::setting(id);
    audit::record(&mut tx, org, caller.user_id(), origin, owner, lines).await?;
    tx.commit().await?;
    Ok(())
}

/// Restores the default text of `key`.
pub async fn reset(
    state: &AppState,
    caller: &Principal,
    origin: &Origin,
    key: &str,
) -> AppResult<MailTemplate> {
    let key = key_of(key)?;
    caller.require(Capability::ManageSettings)?;
    caller.person()?;
    let org = caller.org();
    if let Some((id, _)) = store::template(&state.db, org, key).await? {
        let mut tx = state.db.begin().await?;
        store::delete_template(&mut tx, org, key).await?;
        let lines = [audit::line(
            "mail_template.reset",
            Some(key.as_str().to_owned()),
            Some("default".to_owned()),
        )];
        commit_audited(tx, caller, origin, id, &lines).await?;
    }
    Ok(view(key, default_template(key), false))
}

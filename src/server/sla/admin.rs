//! Calendars and policies (managers and administrators, `ManageSla`). Every
//! change is audited (owner: the setting) in its transaction and makes this
//! instance forget the organization's cached policies (`track::forget`);
//! other instances reload them within seconds. Another organization's
//! calendar or policy is not found.

use super::{reevaluate, track};
use crate::domain::sla::{
    DEFAULT_WARNING_PERCENT, HolidayImport, PolicyChoices, PolicyConditions, PolicyOrder,
    SlaCalendar, SlaCalendarInput, SlaPolicy, SlaPolicyInput,
};
use crate::domain::ticket::{Channel, Priority, Severity, normalize_tags};
use crate::domain::{ApiError, Capability, ErrorKind, FieldErrors};
use crate::engine::sla::ical;
use crate::engine::sla::simulation::{
    CalendarSpec, MAX_HOLIDAYS, MAX_TARGET_MINUTES, check_calendar_spec,
};
use crate::engine::ticket_change::FieldChange;
use crate::server::audit::{self, Origin, Owner};
use crate::server::auth::Principal;
use crate::server::db::sla as store;
use crate::server::db::{Tx, desk};
use crate::server::error::AppResult;
use crate::server::state::AppState;
use chrono::Utc;
use std::collections::BTreeSet;
use uuid::Uuid;

pub const MAX_NAME_CHARS: usize = 100;
/// Values one condition may list.
pub const MAX_CONDITION_VALUES: usize = 50;

fn not_found() -> ApiError {
    ApiError::not_found()
}

/// Audits `kind` of setting `id` going from `before` to `after` (JSON).
async fn audit_change<T: serde::Serialize>(
    tx: &mut Tx,
    caller: &Principal,
    origin: &Origin,
    id: Uuid,
    kind: &'static str,
    before: Option<&T>,
    after: Option<&T>,
) -> Result<(), sqlx::Error> {
    let text = |v: Option<&T>| v.and_then(|v| serde_json::to_string(v).ok());
    let line = FieldChange {
        field: kind.into(),
        old: text(before),
        new: text(after),
    };
    let lines = [line];
    let (org, by) = (Some(caller.org()), caller.user_id());
    audit::record(tx, org, by, origin, Owner::setting(id), &lines).await
}

/// Audits the change, plans the re-evaluation of the open tickets, commits
/// it and makes this instance forget the organization's cached policies.
async fn finish<T: serde::Serialize>(
    mut tx: Tx,
    caller: &Principal,
    origin: &Origin,
    id: Uuid,
    kind: &'static str,
    before: Option<&T>,
    after: Option<&T>,
) -> AppResult<()> {
    audit_change(&mut tx, caller, origin, id, kind, before, after).await?;
    reevaluate::plan(&mut tx, caller.org(), Utc::now()).await?;
    tx.commit().await?;
    track::forget(caller.org());
    Ok(())
}

pub async fn calendars(state: &AppState, caller: &Principal) -> AppResult<Vec<SlaCalendar>> {
    caller.require(Capability::ManageSla)?;
    Ok(store::calendars(&state.db, caller.org()).await?)
}

pub async fn calendar(state: &AppState, caller: &Principal, id: Uuid) -> AppResult<SlaCalendar> {
    caller.require(Capability::ManageSla)?;
    Ok(store::find_calendar(&state.db, caller.org(), id)
        .await?
        .ok_or_else(not_found)?)
}

fn check_name(errs: &mut FieldErrors, name: &str) {
    let name = name.trim();
    errs.check(!name.is_empty(), "name", "Give it a name");
    errs.check(
        name.chars().count() <= MAX_NAME_CHARS,
        "name",
        &format!("Keep the name under {MAX_NAME_CHARS} characters"),
    );
}

/// The input checked as the simulator checks a calendar; field messages
/// name `timezone`, `hours.mon[0]`, `holidays[2]`.
fn check_calendar(input: &SlaCalendarInput, taken: bool) -> Result<(), ApiError> {
    let mut errs = FieldErrors::new();
    check_name(&mut errs, &input.name);
    errs.check(!taken, "name", "Another calendar has this name");
    let spec = CalendarSpec {
        timezone: input.timezone.clone(),
        hours: input.hours.clone(),
        holidays: input.holidays.clone(),
        always_open: input.always_open,
    };
    if let Err(err) = check_calendar_spec(spec) {
        for (field, message) in err.fields {
            errs.add(&field, message);
        }
    }
    errs.into_result()
}

async fn name_taken_calendar(
    state: &AppState,
    org: Uuid,
    name: &str,
    except: Option<Uuid>,
) -> AppResult<bool> {
    let all = store::calendars(&state.db, org).await?;
    Ok(all
        .iter()
        .any(|c| Some(c.id) != except && c.name.eq_ignore_ascii_case(name.trim())))
}

pub async fn create_calendar(
    state: &AppState,
    caller: &Principal,
    input: SlaCalendarInput,
    origin: &Origin,
) -> AppResult<SlaCalendar> {
    caller.require(Capability::ManageSla)?;
    let org = caller.org();
    let taken = name_taken_calendar(state, org, &input.name, None).await?;
    check_calendar(&input, taken)?;
    let now = Utc::now();
    let calendar = calendar_from(Uuid::now_v7(), input, now, now);
    let mut tx = state.db.begin().await?;
    store::save_calendar(&mut tx, org, &calendar).await?;
    finish(
        tx,
        caller,
        origin,
        calendar.id,
        "sla_calendar",
        None,
        Some(&calendar),
    )
    .await?;
    Ok(calendar)
}

fn calendar_from(
    id: Uuid,
    input: SlaCalendarInput,
    created_at: chrono::DateTime<Utc>,
    now: chrono::DateTime<Utc>,
) -> SlaCalendar {
    SlaCalendar {
        id,
        name: input.name.trim().to_owned(),
        timezone: input
            .timezone
            .map(|zone| zone.trim().to_owned())
            .filter(|_| !input.always_open),
        always_open: input.always_open,
        hours: input.hours,
        holidays: input.holidays.iter().map(|h| h.trim().to_owned()).collect(),
        active: input.active.unwrap_or(true),
        created_at,
        updated_at: now,
    }
}

pub async fn update_calendar(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
    input: SlaCalendarInput,
    origin: &Origin,
) -> AppResult<SlaCalendar> {
    caller.require(Capability::ManageSla)?;
    let org = caller.org();
    let before = store::find_calendar(&state.db, org, id)
        .await?
        .ok_or_else(not_found)?;
    let taken = name_taken_calendar(state, org, &input.name, Some(id)).await?;
    check_calendar(&input, taken)?;
    let after = calendar_from(id, input, before.created_at, Utc::now());
    save_changed_calendar(state, caller, origin, &before, after).await
}

async fn save_changed_calendar(
    state: &AppState,
    caller: &Principal,
    origin: &Origin,
    before: &SlaCalendar,
    after: SlaCalendar,
) -> AppResult<SlaCalendar> {
    let org = caller.org();
    let mut tx = state.db.begin().await?;
    store::save_calendar(&mut tx, org, &after).await?;
    finish(
        tx,
        caller,
        origin,
        after.id,
        "sla_calendar",
        Some(before),
        Some(&after),
    )
    .await?;
    Ok(after)
}

pub async fn delete_calendar(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
    origin: &Origin,
) -> AppResult<()> {
    caller.require(Capability::ManageSla)?;
    let org = caller.org();
    let before = store::find_calendar(&state.db, org, id)
        .await?
        .ok_or_else(not_found)?;
    let mut tx = state.db.begin().await?;
    if store::policies_using(&mut tx, org, id).await? > 0 {
        return Err(ApiError::new(
            ErrorKind::Conflict,
            "A policy uses this calendar; give the policy another calendar first",
        )
        .into());
    }
    store::delete_calendar(&mut tx, org, id).await?;
    finish(tx, caller, origin, id, "sla_calendar", Some(&before), None).await?;
    Ok(())
}

/// Adds the all-day events of an iCalendar file to the calendar's
/// holidays (yearly ones as `MM-DD`); the ones it has are kept.
pub async fn import_ical(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
    text: &str,
    origin: &Origin,
) -> AppResult<HolidayImport> {
    caller.require(Capability::ManageSla)?;
    let org = caller.org();
    let before = store::find_calendar(&state.db, org, id)
        .await?
        .ok_or_else(not_found)?;
    let mut errs = FieldErrors::new();
    let found = match ical::holidays(text) {
        Ok(found) => found,
        Err(message) => {
            errs.add("ical", message);
            return Err(errs.into_result().unwrap_err().into());
        }
    };
    let added: Vec<String> = found
        .holidays
        .into_iter()
        .filter(|day| !before.holidays.contains(day))
        .collect();
    let holidays = [before.holidays.as_slice(), &added].concat();
    errs.check(
        holidays.len() <= MAX_HOLIDAYS,
        "ical",
        &format!("A calendar has at most {MAX_HOLIDAYS} holidays"),
    );
    errs.check(
        !before.always_open,
        "ical",
        "An always-open calendar has no holidays",
    );
    errs.into_result()?;
    let after = SlaCalendar {
        holidays,
        updated_at: Utc::now(),
        ..before.clone()
    };
    let calendar = save_changed_calendar(state, caller, origin, &before, after).await?;
    Ok(HolidayImport {
        calendar,
        added,
        skipped: found.skipped,
    })
}

/// What the policy form's conditions and breach action choose from.
pub async fn policy_choices(state: &AppState, caller: &Principal) -> AppResult<PolicyChoices> {
    caller.require(Capability::ManageSla)?;
    Ok(choices_of(state, caller.org()).await?)
}

async fn choices_of(state: &AppState, org: Uuid) -> Result<PolicyChoices, sqlx::Error> {
    Ok(PolicyChoices {
        categories: desk::categories(&state.db, org).await?,
        teams: desk::teams(&state.db, org).await?,
        companies: desk::companies(&state.db, org).await?,
    })
}

pub async fn policies(state: &AppState, caller: &Principal) -> AppResult<Vec<SlaPolicy>> {
    caller.require(Capability::ManageSla)?;
    Ok(store::policies(&state.db, caller.org()).await?)
}

pub async fn policy(state: &AppState, caller: &Principal, id: Uuid) -> AppResult<SlaPolicy> {
    caller.require(Capability::ManageSla)?;
    Ok(store::find_policy(&state.db, caller.org(), id)
        .await?
        .ok_or_else(not_found)?)
}

/// Checks `input` and makes the policy it describes (position and times
/// as given).
async fn check_policy(
    state: &AppState,
    org: Uuid,
    input: SlaPolicyInput,
    except: Option<Uuid>,
) -> AppResult<SlaPolicyParts> {
    let mut errs = FieldErrors::new();
    check_name(&mut errs, &input.name);
    let others = store::policies(&state.db, org).await?;
    let taken = others
        .iter()
        .any(|p| Some(p.id) != except && p.name.eq_ignore_ascii_case(input.name.trim()));
    errs.check(!taken, "name", "Another policy has this name");
    match input.calendar_id {
        Some(id) => {
            let exists = store::find_calendar(&state.db, org, id).await?.is_some();
            errs.check(exists, "calendar_id", "No such calendar");
        }
        None => errs.add("calendar_id", "Choose the calendar the targets count on"),
    }
    for (field, minutes) in [
        ("first_response_minutes", input.first_response_minutes),
        ("next_response_minutes", input.next_response_minutes),
        ("resolution_minutes", input.resolution_minutes),
    ] {
        if let Some(minutes) = minutes {
            errs.check(
                (1..=MAX_TARGET_MINUTES).contains(&minutes),
                field,
                &format!("Use 1 to {MAX_TARGET_MINUTES} minutes, or null for no target"),
            );
        }
    }
    let warning_percent = input.warning_percent.unwrap_or(DEFAULT_WARNING_PERCENT);
    errs.check(
        (1..=99).contains(&warning_percent),
        "warning_percent",
        "Use 1 to 99 (percent of a target)",
    );
    let raise_priority = errs.parse(
        "raise_priority",
        input.raise_priority.as_deref(),
        Priority::parse,
    );
    if let Some(team) = input.reassign_team_id {
        let exists = desk::find_team(&state.db, org, team).await?.is_some();
        errs.check(exists, "reassign_team_id", "No such team");
    }
    check_condition_ids(state, org, &mut errs, &input.conditions).await?;
    let conditions = check_conditions(&mut errs, input.conditions);
    errs.into_result()?;
    Ok(SlaPolicyParts {
        name: input.name.trim().to_owned(),
        active: input.active.unwrap_or(true),
        calendar_id: input.calendar_id.unwrap_or_default(),
        conditions,
        first_response_minutes: input.first_response_minutes,
        next_response_minutes: input.next_response_minutes,
        resolution_minutes: input.resolution_minutes,
        business_hours: input.business_hours,
        warning_percent,
        raise_priority,
        reassign_team_id: input.reassign_team_id,
    })
}

struct SlaPolicyParts {
    name: String,
    active: bool,
    calendar_id: Uuid,
    conditions: PolicyConditions,
    first_response_minutes: Option<i64>,
    next_response_minutes: Option<i64>,
    resolution_minutes: Option<i64>,
    business_hours: bool,
    warning_percent: i64,
    raise_priority: Option<Priority>,
    reassign_team_id: Option<Uuid>,
}

impl SlaPolicyParts {
    fn into_policy(
        self,
        id: Uuid,
        position: i64,
        created_at: chrono::DateTime<Utc>,
        now: chrono::DateTime<Utc>,
    ) -> SlaPolicy {
        SlaPolicy {
            id,
            name: self.name,
            position,
            active: self.active,
            calendar_id: self.calendar_id,
            conditions: self.conditions,
            first_response_minutes: self.first_response_minutes,
            next_response_minutes: self.next_response_minutes,
            resolution_minutes: self.resolution_minutes,
            business_hours: self.business_hours,
            warning_percent: self.warning_percent,
            raise_priority: self.raise_priority,
            reassign_team_id: self.reassign_team_id,
            created_at,
            updated_at: now,
        }
    }
}

/// The categories, teams and companies the conditions name are the
/// organization's (`conditions.team[0]`: "No such team").
async fn check_condition_ids(
    state: &AppState,
    org: Uuid,
    errs: &mut FieldErrors,
    c: &PolicyConditions,
) -> AppResult<()> {
    if c.category.is_empty() && c.team.is_empty() && c.company.is_empty() {
        return Ok(());
    }
    let choices = choices_of(state, org).await?;
    let categories: BTreeSet<Uuid> = choices.categories.iter().map(|c| c.id).collect();
    let teams: BTreeSet<Uuid> = choices.teams.iter().map(|t| t.id).collect();
    let companies: BTreeSet<Uuid> = choices.companies.iter().map(|c| c.id).collect();
    for (field, ids, known) in [
        ("category", &c.category, categories),
        ("team", &c.team, teams),
        ("company", &c.company, companies),
    ] {
        for (i, id) in ids.iter().enumerate() {
            errs.check(
                known.contains(id),
                &format!("conditions.{field}[{i}]"),
                &format!("No such {field}"),
            );
        }
    }
    Ok(())
}

/// Each condition's values checked against their wire names
/// (`conditions.priority[1]`), tags normalized.
fn check_conditions(errs: &mut FieldErrors, c: PolicyConditions) -> PolicyConditions {
    let mut wire = |field: &str, values: Vec<String>, known: &dyn Fn(&str) -> bool| {
        errs.check(
            values.len() <= MAX_CONDITION_VALUES,
            &format!("conditions.{field}"),
            &format!("List at most {MAX_CONDITION_VALUES} values"),
        );
        let values: Vec<String> = values.iter().map(|v| v.trim().to_owned()).collect();
        for (i, value) in values.iter().enumerate() {
            errs.check(
                known(value),
                &format!("conditions.{field}[{i}]"),
                &format!("Unknown {field} `{value}`"),
            );
        }
        values
    };
    let priority = wire("priority", c.priority, &|v| Priority::parse(v).is_some());
    let severity = wire("severity", c.severity, &|v| Severity::parse(v).is_some());
    let channel = wire("channel", c.channel, &|v| Channel::parse(v).is_some());
    for (field, ids) in [
        ("category", &c.category),
        ("team", &c.team),
        ("company", &c.company),
    ] {
        errs.check(
            ids.len() <= MAX_CONDITION_VALUES,
            &format!("conditions.{field}"),
            &format!("List at most {MAX_CONDITION_VALUES} values"),
        );
    }
    let tags = normalize_tags(errs, &c.tags);
    PolicyConditions {
        priority,
        severity,
        channel,
        tags,
        ..c
    }
}

pub async fn create_policy(
    state: &AppState,
    caller: &Principal,
    input: SlaPolicyInput,
    origin: &Origin,
) -> AppResult<SlaPolicy> {
    caller.require(Capability::ManageSla)?;
    let org = caller.org();
    let parts = check_policy(state, org, input, None).await?;
    let last = store::policies(&state.db, org)
        .await?
        .iter()
        .map(|p| p.position)
        .max()
        .unwrap_or(0);
    let now = Utc::now();
    let policy = parts.into_policy(Uuid::now_v7(), last + 1, now, now);
    let mut tx = state.db.begin().await?;
    store::save_policy(&mut tx, org, &policy).await?;
    finish(
        tx,
        caller,
        origin,
        policy.id,
        "sla_policy",
        None,
        Some(&policy),
    )
    .await?;
    Ok(policy)
}

pub async fn update_policy(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
    input: SlaPolicyInput,
    origin: &Origin,
) -> AppResult<SlaPolicy> {
    caller.require(Capability::ManageSla)?;
    let org = caller.org();
    let before = store::find_policy(&state.db, org, id)
        .await?
        .ok_or_else(not_found)?;
    let parts = check_policy(state, org, input, Some(id)).await?;
    let after = parts.into_policy(id, before.position, before.created_at, Utc::now());
    let mut tx = state.db.begin().await?;
    store::save_policy(&mut tx, org, &after).await?;
    finish(
        tx,
        caller,
        origin,
        id,
        "sla_policy",
        Some(&before),
        Some(&after),
    )
    .await?;
    Ok(after)
}

/// Deletes a policy; its open tickets are re-evaluated in the background.
pub async fn delete_policy(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
    origin: &Origin,
) -> AppResult<()> {
    caller.require(Capability::ManageSla)?;
    let org = caller.org();
    let before = store::find_policy(&state.db, org, id)
        .await?
        .ok_or_else(not_found)?;
    let mut tx = state.db.begin().await?;
    store::delete_policy(&mut tx, org, id).await?;
    finish(tx, caller, origin, id, "sla_policy", Some(&before), None).await?;
    Ok(())
}

/// Puts the policies in the order of `order.ids`: every policy of the
/// organization, each once.
pub async fn reorder(
    state: &AppState,
    caller: &Principal,
    order: PolicyOrder,
    origin: &Origin,
) -> AppResult<Vec<SlaPolicy>> {
    caller.require(Capability::ManageSla)?;
    let org = caller.org();
    let before = store::policies(&state.db, org).await?;
    let mut given = order.ids.clone();
    given.sort();
    given.dedup();
    let mut have: Vec<Uuid> = before.iter().map(|p| p.id).collect();
    have.sort();
    let mut errs = FieldErrors::new();
    errs.check(
        given.len() == order.ids.len() && given == have,
        "ids",
        "List every policy of your organization once, first tried first",
    );
    errs.into_result()?;
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    reevaluate::plan(&mut tx, org, now).await?;
    for (i, id) in order.ids.iter().enumerate() {
        let position = i as i64 + 1;
        let Some(old) = before.iter().find(|p| p.id == *id) else {
            continue;
        };
        if old.position != position {
            store::set_position(&mut tx, org, *id, position, now).await?;
            let line = audit::line(
                "sla_policy.position",
                Some(old.position.to_string()),
                Some(position.to_string()),
            );
            let by = caller.user_id();
            audit::record(&mut tx, Some(org), by, origin, Owner::setting(*id), &[line]).await?;
        }
    }
    tx.commit().await?;
    track::forget(org);
    Ok(store::policies(&state.db, org).await?)
}

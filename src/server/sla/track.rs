//! SLA on real tickets: which policy applies, the stored due times and the
//! timers, recomputed inside the transaction of every change that can move
//! them (`db::tickets::insert` and `apply` call in here), and by the timers
//! themselves.
//!
//! The clock replays the ticket's life from what the change path already
//! stores (`db::sla::history`: creation, messages, status lines), so nothing
//! extra is written per change and a ticket that no policy covers costs one
//! lookup in the per-organization cache below.

use crate::domain::sla::{SlaCalendar, SlaPolicy};
use crate::engine::sla::calendar::Calendar;
use crate::engine::sla::policy::{self, Standing, TicketFacts};
use crate::engine::sla::simulation::{CalendarSpec, check_calendar_spec};
use crate::engine::sla::{SlaEvent, SlaEventKind, SlaReport, evaluate};
use crate::server::db::desk;
use crate::server::db::jobs::{self, NewJob};
use crate::server::db::sla::{self as store, StoredSla};
use crate::server::db::tickets::{Change, NewTicket, TicketRow};
use crate::server::db::{Conn, Tx};
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

pub const WARNING_JOB: &str = "sla.warning";
pub const BREACH_JOB: &str = "sla.breach";

/// How long an organization's policies and calendars are used from memory.
/// This instance forgets them at once when it changes them; another
/// instance's change shows here within this time.
const FRESH_FOR: Duration = Duration::from_secs(5);

/// An organization's active policies, first tried first, and the calendars
/// they name, checked.
pub struct OrgSla {
    loaded: Instant,
    pub policies: Vec<SlaPolicy>,
    pub calendars: HashMap<Uuid, (SlaCalendar, Calendar)>,
}

static CACHE: LazyLock<Mutex<HashMap<Uuid, Arc<OrgSla>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Counts `forget`s: a load that began before one must not fill the cache
/// after it with what it read before the change.
static FORGOTTEN: AtomicU64 = AtomicU64::new(0);

/// Drops the organization's cached policies (after this instance changed them).
pub fn forget(org: Uuid) {
    let mut cache = CACHE.lock().expect("SLA cache");
    FORGOTTEN.fetch_add(1, Ordering::SeqCst);
    cache.remove(&org);
}

/// The organization's policies and calendars, from memory when fresh.
pub async fn org_sla<'c>(conn: impl Into<Conn<'c>>, org: Uuid) -> Result<Arc<OrgSla>, sqlx::Error> {
    let generation = {
        let cache = CACHE.lock().expect("SLA cache");
        if let Some(hit) = cache.get(&org)
            && hit.loaded.elapsed() < FRESH_FOR
        {
            return Ok(hit.clone());
        }
        FORGOTTEN.load(Ordering::SeqCst)
    };
    let mut conn = conn.into();
    let policies: Vec<SlaPolicy> = store::policies(reborrow(&mut conn), org)
        .await?
        .into_iter()
        .filter(|p| p.active)
        .collect();
    let mut calendars = HashMap::new();
    if !policies.is_empty() {
        for stored in store::calendars(conn, org).await? {
            let spec = CalendarSpec {
                timezone: stored.timezone.clone(),
                hours: stored.hours.clone(),
                holidays: stored.holidays.clone(),
                always_open: stored.always_open,
            };
            // A stored calendar was checked when saved; one that no longer
            // checks (a zone renamed in a newer zone database) is skipped.
            if let Ok(calendar) = check_calendar_spec(spec) {
                calendars.insert(stored.id, (stored, calendar));
            }
        }
    }
    let fresh = Arc::new(OrgSla {
        loaded: Instant::now(),
        policies,
        calendars,
    });
    let mut cache = CACHE.lock().expect("SLA cache");
    if FORGOTTEN.load(Ordering::SeqCst) == generation {
        cache.insert(org, fresh.clone());
    }
    Ok(fresh)
}

fn reborrow<'a>(conn: &'a mut Conn<'_>) -> Conn<'a> {
    match conn {
        Conn::SqlitePool(p) => Conn::SqlitePool(p),
        Conn::Sqlite(c) => Conn::Sqlite(c),
        Conn::PostgresPool(p) => Conn::PostgresPool(p),
        Conn::Postgres(c) => Conn::Postgres(c),
    }
}

fn facts(row: &TicketRow) -> (TicketFacts<'_>, Vec<String>) {
    let tags: Vec<String> = row
        .tags
        .split(',')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    let facts = TicketFacts {
        priority: row.priority,
        severity: row.severity,
        category_id: row.category_id,
        team_id: row.team_id,
        channel: row.channel,
        company_id: row.company_id,
        tags: &[],
    };
    (facts, tags)
}

/// The policy that applies to `row`, why, and its calendar.
pub struct Applies<'a> {
    pub policy: &'a SlaPolicy,
    pub matched: Vec<String>,
    pub calendar: &'a (SlaCalendar, Calendar),
}

pub fn applies<'a>(org: &'a OrgSla, row: &TicketRow) -> Option<Applies<'a>> {
    let (mut facts, tags) = facts(row);
    facts.tags = &tags;
    applies_to(org, &facts)
}

fn applies_to<'a>(org: &'a OrgSla, facts: &TicketFacts<'_>) -> Option<Applies<'a>> {
    if org.policies.is_empty() {
        return None;
    }
    // A policy whose calendar is gone or broken is passed over.
    let usable: Vec<SlaPolicy> = org
        .policies
        .iter()
        .filter(|p| org.calendars.contains_key(&p.calendar_id))
        .cloned()
        .collect();
    let (chosen, matched) = policy::match_policy(&usable, facts)?;
    let policy = org.policies.iter().find(|p| p.id == chosen.id)?;
    Some(Applies {
        policy,
        matched,
        calendar: org.calendars.get(&policy.calendar_id)?,
    })
}

/// The clock over `events` under the policy, as of `now`.
pub fn evaluate_with(
    applies: &Applies<'_>,
    events: &[SlaEvent],
    now: DateTime<Utc>,
) -> (SlaReport, Standing) {
    let targets = policy::targets(applies.policy);
    let calendar = &applies.calendar.1;
    let report = evaluate(calendar, &targets, events, now);
    let standing = policy::standing(
        &report,
        calendar,
        &targets,
        applies.policy.warning_percent,
        now,
    );
    (report, standing)
}

/// A new ticket's SLA, decided before it is inserted: the columns go into
/// the INSERT and the first timer into the statement of its event, so a
/// ticket under a policy costs SQLite's one writer no round trip more than
/// one without.
pub struct NewTicketSla {
    /// The requester's company, looked up when a policy looks at companies
    /// (otherwise the INSERT fills it in itself).
    pub company_id: Option<Uuid>,
    pub stored: StoredSla,
    pub timer: Option<NewJob>,
}

/// What applies to `new` (not an imported ticket: history brought in
/// starts no clock) when it is created at `now`.
pub async fn for_new(
    tx: &mut Tx,
    new: &NewTicket<'_>,
    now: DateTime<Utc>,
) -> Result<Option<NewTicketSla>, sqlx::Error> {
    let org = org_sla(&mut *tx, new.organization_id).await?;
    if org.policies.is_empty() {
        return Ok(None);
    }
    let mut company_id = new.company_id;
    if company_id.is_none()
        && org
            .policies
            .iter()
            .any(|p| !p.conditions.company.is_empty())
    {
        company_id = desk::user_company(tx, new.organization_id, new.requester_id)
            .await?
            .flatten();
    }
    let facts = TicketFacts {
        priority: new.priority,
        severity: new.severity,
        category_id: new.category_id,
        team_id: new.team_id,
        channel: new.channel,
        company_id,
        tags: new.tags,
    };
    let Some(applies) = applies_to(&org, &facts) else {
        return Ok(None);
    };
    let events = [SlaEvent {
        at: now,
        kind: SlaEventKind::Created,
    }];
    let (_, standing) = evaluate_with(&applies, &events, now);
    Ok(Some(NewTicketSla {
        company_id,
        stored: stored(Some(applies.policy.id), &standing),
        timer: next_timer(new.organization_id, new.id, &standing, now),
    }))
}

/// Fields whose change can change which policy applies.
const MATCHED_FIELDS: [&str; 7] = [
    "priority",
    "severity",
    "category_id",
    "team_id",
    "channel",
    "company_id",
    "tags",
];

/// A stored change: when it carried a message, changed the status or a
/// field policies look at, the ticket's SLA is recomputed.
pub async fn on_change(
    tx: &mut Tx,
    change: &Change<'_>,
    row: &mut TicketRow,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    // An import's changes to history it brought in start no clock.
    if change.actor.source == crate::domain::event::Source::Import && row.sla_state.is_none() {
        return Ok(());
    }
    let relevant = change.comment.is_some()
        || change
            .changes
            .iter()
            .any(|c| c.field == "status" || MATCHED_FIELDS.contains(&c.field.as_ref()));
    if relevant {
        reevaluate_ticket(tx, row, now).await?;
    }
    Ok(())
}

/// Recomputes the ticket's SLA from its history under the policy that
/// applies now (a changed priority keeps the time already used: the whole
/// life is replayed under the new targets), stores it and re-plans its
/// timers. For a job that re-evaluates open tickets after a policy or
/// calendar change, too. Returns what applies, if anything.
pub async fn reevaluate_ticket(
    tx: &mut Tx,
    row: &mut TicketRow,
    now: DateTime<Utc>,
) -> Result<Option<(SlaReport, Standing)>, sqlx::Error> {
    let org = org_sla(&mut *tx, row.organization_id).await?;
    let Some(applies) = applies(&org, row) else {
        if row.sla_state.is_some() || row.sla_due_at.is_some() {
            store::set_ticket(tx, row.id, None, &StoredSla::default()).await?;
            row.sla_state = None;
            row.sla_due_at = None;
        }
        return Ok(None);
    };
    let events = store::history(&mut *tx, row.id, row.created_at).await?;
    let (report, standing) = evaluate_with(&applies, &events, now.max(row.created_at));
    store_standing(tx, row, Some(applies.policy.id), &standing, now).await?;
    Ok(Some((report, standing)))
}

/// What a ticket stores for `standing` under `policy_id`.
pub fn stored(policy_id: Option<Uuid>, standing: &Standing) -> StoredSla {
    StoredSla {
        policy_id,
        first_response_due_at: standing.first_response_due_at,
        next_response_due_at: standing.next_response_due_at,
        resolution_due_at: standing.resolution_due_at,
        due_at: standing.due_at(),
        warning_at: standing.warning_at(),
        state: Some(standing.state),
    }
}

async fn store_standing(
    tx: &mut Tx,
    row: &mut TicketRow,
    policy_id: Option<Uuid>,
    standing: &Standing,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let stored = stored(policy_id, standing);
    store::set_ticket(tx, row.id, None, &stored).await?;
    row.sla_due_at = stored.due_at;
    row.sla_state = stored.state;
    plan_timers(tx, row, standing, now).await
}

/// What a timer job carries.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TimerPayload {
    pub organization_id: Uuid,
    pub ticket_id: Uuid,
}

/// The timer job `kind` of the ticket at `run_at`, under a key per ticket
/// and kind so that planning it again moves it instead of adding one.
pub(super) fn timer(
    kind: &'static str,
    organization_id: Uuid,
    ticket_id: Uuid,
    run_at: DateTime<Utc>,
) -> NewJob {
    let payload = TimerPayload {
        organization_id,
        ticket_id,
    };
    NewJob {
        organization_id: Some(organization_id),
        kind,
        payload: serde_json::to_string(&payload).unwrap_or_default(),
        run_at,
        max_attempts: 10,
        unique_key: Some(format!("{kind}:{ticket_id}")),
    }
}

/// The ticket's next timer: the earliest warning still ahead or the breach
/// check just after the nearest due time, whichever comes first. One job a
/// ticket: each handler re-evaluates, which plans the one after. A timer
/// that is no longer wanted is left to run: its handler re-evaluates and
/// finds nothing to do.
pub(super) fn next_timer(
    organization_id: Uuid,
    ticket_id: Uuid,
    standing: &Standing,
    now: DateTime<Utc>,
) -> Option<NewJob> {
    let warning = standing
        .pending
        .iter()
        .map(|p| p.warning_at)
        .filter(|at| *at > now)
        .min();
    // The clock breaches strictly after the due time.
    let breach = standing.due_at().map(|due| due + TimeDelta::seconds(1));
    let (kind, at) = match (warning, breach) {
        (Some(warning), Some(breach)) if breach <= warning => (BREACH_JOB, breach),
        (Some(warning), _) => (WARNING_JOB, warning),
        (None, Some(breach)) => (BREACH_JOB, breach),
        (None, None) => return None,
    };
    Some(timer(kind, organization_id, ticket_id, at))
}

async fn plan_timers(
    tx: &mut Tx,
    row: &TicketRow,
    standing: &Standing,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    match next_timer(row.organization_id, row.id, standing, now) {
        Some(job) => jobs::enqueue(tx, &job, now).await,
        None => Ok(()),
    }
}

//! The SLA timers: `sla.warning` at a pending target's warning instant and
//! `sla.breach` just after the nearest due time, planned by `track` in the
//! transaction that set the due time. Each re-evaluates the ticket when it
//! runs, so a clock that was met or paused in the meantime fires nothing.
//! A breach is recorded once (`ticket_sla_breaches` is unique per ticket,
//! target and due time); its first recording escalates the ticket through
//! the escalation change, as the system, and applies the policy's actions.
//! The job is completed first in its transaction, so the timer it plans
//! next (same key) is a new row.

use super::track::{self, BREACH_JOB, TimerPayload, WARNING_JOB};
use crate::domain::Role;
use crate::domain::event::{DomainEvent, SlaAlert, Source};
use crate::domain::sla::SlaState;
use crate::domain::ticket::Priority;
use crate::engine::sla::SlaTarget;
use crate::engine::sla::clock::Breach;
use crate::engine::ticket_change::{Plan, TicketPatch, plan_escalation, plan_update};
use crate::server::audit::Origin;
use crate::server::auth::{Principal, SystemReason};
use crate::server::db::jobs::{self, ClaimedJob};
use crate::server::db::sla as store;
use crate::server::db::tickets::{self, Change, TicketRow};
use crate::server::db::{Tx, events};
use crate::server::runtime::{BoxFuture, JobError, JobHandler, payload};
use crate::server::state::AppState;
use chrono::{DateTime, SecondsFormat, Utc};

/// Completes the timer's job in a new transaction (so the timer it plans
/// next is a new row) and reads its ticket there. None: another worker
/// holds the job.
async fn start(
    state: &AppState,
    job: &ClaimedJob,
) -> Result<Option<(Tx, Option<TicketRow>)>, JobError> {
    let timer: TimerPayload = payload(job)?;
    let mut tx = state.db.begin().await?;
    if !jobs::complete(&mut tx, job).await? {
        return Ok(None);
    }
    let row = tickets::find(&mut tx, timer.organization_id, timer.ticket_id).await?;
    Ok(Some((tx, row)))
}

pub struct SlaWarnings;
pub struct SlaBreaches;

impl JobHandler for SlaWarnings {
    fn kind(&self) -> &'static str {
        WARNING_JOB
    }

    fn run<'a>(
        &'a self,
        state: &'a AppState,
        job: &'a ClaimedJob,
    ) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let Some((mut tx, row)) = start(state, job).await? else {
                return Ok(());
            };
            let now = Utc::now();
            if let Some(mut row) = row
                && let Some((_, standing)) =
                    track::reevaluate_ticket(&mut tx, &mut row, now).await?
                && standing.state == SlaState::Warning
                && let Some(pending) = standing
                    .pending
                    .iter()
                    .filter(|p| p.warning_at <= now)
                    // The threshold crossed last: the one this timer was for.
                    .max_by_key(|p| p.warning_at)
            {
                let alert = SlaAlert {
                    ticket_id: row.id,
                    target: pending.target.as_str().to_owned(),
                    due_at: pending.due_at,
                };
                let event = DomainEvent::TicketSlaWarning(alert);
                events::publish(&mut tx, row.organization_id, &event, now).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }
}

impl JobHandler for SlaBreaches {
    fn kind(&self) -> &'static str {
        BREACH_JOB
    }

    fn run<'a>(
        &'a self,
        state: &'a AppState,
        job: &'a ClaimedJob,
    ) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let Some((mut tx, row)) = start(state, job).await? else {
                return Ok(());
            };
            let now = Utc::now();
            let Some(mut row) = row else {
                tx.commit().await?;
                return Ok(());
            };
            let Some((report, _)) = track::reevaluate_ticket(&mut tx, &mut row, now).await? else {
                tx.commit().await?;
                return Ok(());
            };
            let mut fresh: Vec<Breach> = Vec::new();
            for breach in &report.breaches {
                let target = breach.target.as_str();
                if store::record_breach(
                    &mut tx,
                    row.organization_id,
                    row.id,
                    target,
                    breach.due_at,
                    now,
                )
                .await?
                {
                    fresh.push(breach.clone());
                }
            }
            if let Some(first) = fresh.first() {
                let escalated = escalate(&mut tx, &row, first, now).await?;
                if !escalated {
                    // Another writer changed the ticket: try again later.
                    return Err(JobError::Retry("the ticket changed; retrying".into()));
                }
                for breach in &fresh {
                    let alert = SlaAlert {
                        ticket_id: row.id,
                        target: breach.target.as_str().to_owned(),
                        due_at: breach.due_at,
                    };
                    let event = DomainEvent::TicketSlaBreached(alert);
                    events::publish(&mut tx, row.organization_id, &event, now).await?;
                }
            }
            tx.commit().await?;
            Ok(())
        })
    }
}

const BREACH_REASON_START: &str = "SLA breach: ";

/// Whether an escalation reason is the SLA's own (`breach_reason`).
pub fn is_breach_reason(reason: &str) -> bool {
    reason.starts_with(BREACH_REASON_START)
}

/// `SLA breach: first response due 2026-11-23T15:00:00Z`.
pub fn breach_reason(target: SlaTarget, due_at: DateTime<Utc>) -> String {
    let what = match target {
        SlaTarget::FirstResponse => "first response",
        SlaTarget::NextResponse => "next response",
        SlaTarget::Resolution => "resolution",
    };
    format!(
        "{BREACH_REASON_START}{what} due {}",
        due_at.to_rfc3339_opts(SecondsFormat::Secs, true)
    )
}

fn rank(priority: Priority) -> usize {
    Priority::ALL
        .iter()
        .position(|p| *p == priority)
        .unwrap_or_default()
}

/// Escalates the ticket for `breach` (unless it is escalated already or
/// closed) and applies the policy's breach actions, through the one change
/// path, as the system. False when the ticket changed under us.
async fn escalate(
    tx: &mut Tx,
    row: &TicketRow,
    breach: &Breach,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let org = track::org_sla(&mut *tx, row.organization_id).await?;
    let policy = track::applies(&org, row).map(|a| a.policy.clone());
    let current = row.state();
    let reason = breach_reason(breach.target, breach.due_at);
    let escalation = plan_escalation(&current, Role::Admin, &reason, now).ok();
    let escalated = escalation.is_some();
    let base = escalation.unwrap_or_else(|| Plan {
        next: current.clone(),
        changes: Vec::new(),
    });
    let patch = TicketPatch {
        priority: policy
            .as_ref()
            .and_then(|p| p.raise_priority)
            .filter(|p| rank(*p) > rank(current.priority)),
        team_id: policy
            .as_ref()
            .and_then(|p| p.reassign_team_id)
            .filter(|team| current.team_id != Some(*team))
            .map(Some),
        ..TicketPatch::default()
    };
    let actions = if patch.priority.is_some() || patch.team_id.is_some() {
        plan_update(&base.next, &patch, Role::Admin, &[], now).ok()
    } else {
        None
    };
    let (next, mut changes) = (base.next, base.changes);
    let next = match actions {
        Some(plan) => {
            changes.extend(plan.changes);
            plan.next
        }
        None => next,
    };
    if changes.is_empty() {
        return Ok(true);
    }
    let system = Principal::System {
        org: row.organization_id,
        reason: SystemReason::Sla,
    };
    let origin = Origin::internal(Source::Rule);
    let change = Change {
        ticket: row,
        next: &next,
        changes: &changes,
        actor: system.actor(Source::Rule),
        origin: &origin,
        event: if escalated {
            DomainEvent::TicketEscalated
        } else {
            DomainEvent::TicketUpdated
        },
        comment: None,
        attachments: &[],
    };
    Ok(tickets::apply(tx, &change, now).await?.is_some())
}

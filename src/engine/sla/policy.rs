//! Which policy applies to a ticket, and what a clock report means for the
//! ticket's stored columns: the pending due times, the earliest of them,
//! the warning instant and the state. Pure: the time is passed in.

use super::calendar::Calendar;
use super::clock::{Milestone, SlaReport, SlaTarget, Targets};
use crate::domain::sla::{SlaPolicy, SlaState};
use crate::domain::ticket::{Channel, Priority, Severity};
use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

/// What policies look at on a ticket.
#[derive(Debug, Clone, Copy)]
pub struct TicketFacts<'a> {
    pub priority: Priority,
    pub severity: Option<Severity>,
    pub category_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub channel: Channel,
    pub company_id: Option<Uuid>,
    pub tags: &'a [String],
}

/// The first active policy, by position, whose conditions all match, with
/// the conditions that matched (`priority = urgent`; none for a policy
/// without conditions: it matches everything).
pub fn match_policy<'p>(
    policies: &'p [SlaPolicy],
    ticket: &TicketFacts<'_>,
) -> Option<(&'p SlaPolicy, Vec<String>)> {
    let mut ordered: Vec<&SlaPolicy> = policies.iter().filter(|p| p.active).collect();
    ordered.sort_by_key(|p| (p.position, p.id));
    ordered
        .into_iter()
        .find_map(|policy| matches(policy, ticket).map(|why| (policy, why)))
}

fn matches(policy: &SlaPolicy, t: &TicketFacts<'_>) -> Option<Vec<String>> {
    let c = &policy.conditions;
    let mut why = Vec::new();
    let mut one = |name: &str, allowed: &[String], value: Option<&str>| -> bool {
        if allowed.is_empty() {
            return true;
        }
        match value.filter(|v| allowed.iter().any(|a| a == v)) {
            Some(v) => {
                why.push(format!("{name} = {v}"));
                true
            }
            None => false,
        }
    };
    let ids = |ids: &[Uuid]| ids.iter().map(Uuid::to_string).collect::<Vec<_>>();
    let ok = one("priority", &c.priority, Some(t.priority.as_str()))
        && one("severity", &c.severity, t.severity.map(Severity::as_str))
        && one(
            "category",
            &ids(&c.category),
            t.category_id.map(|id| id.to_string()).as_deref(),
        )
        && one(
            "team",
            &ids(&c.team),
            t.team_id.map(|id| id.to_string()).as_deref(),
        )
        && one("channel", &c.channel, Some(t.channel.as_str()))
        && one(
            "company",
            &ids(&c.company),
            t.company_id.map(|id| id.to_string()).as_deref(),
        );
    if !ok {
        return None;
    }
    if !c.tags.is_empty() {
        let hit = t.tags.iter().find(|tag| c.tags.contains(tag))?;
        why.push(format!("tags include {hit}"));
    }
    Some(why)
}

/// The policy's targets as the clock takes them.
pub fn targets(policy: &SlaPolicy) -> Targets {
    let minutes = |m: Option<i64>| m.and_then(|m| u32::try_from(m).ok()).filter(|m| *m > 0);
    Targets {
        first_response: minutes(policy.first_response_minutes),
        next_response: minutes(policy.next_response_minutes),
        resolution: minutes(policy.resolution_minutes),
        business_hours: policy.business_hours,
    }
}

/// A target whose clock runs now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    pub target: SlaTarget,
    pub due_at: DateTime<Utc>,
    /// When the share `warning_percent` of the target has been used.
    pub warning_at: DateTime<Utc>,
}

/// What a ticket stores about its SLA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub first_response_due_at: Option<DateTime<Utc>>,
    pub next_response_due_at: Option<DateTime<Utc>>,
    pub resolution_due_at: Option<DateTime<Utc>>,
    /// The pending targets, nearest due first.
    pub pending: Vec<Pending>,
    pub state: SlaState,
}

impl Standing {
    /// The earliest pending due time (what queues sort by).
    pub fn due_at(&self) -> Option<DateTime<Utc>> {
        self.pending.first().map(|p| p.due_at)
    }

    /// The earliest warning instant of a pending target.
    pub fn warning_at(&self) -> Option<DateTime<Utc>> {
        self.pending.iter().map(|p| p.warning_at).min()
    }
}

/// Reads a clock report as of `now`: a target is pending while its clock
/// runs (its last milestone is `started` or `resumed`) and it is not
/// breached. Breached once: `breached` (also after the target is met or
/// the ticket resolved); else `warning` once a pending target is past its
/// threshold; else `ok`.
pub fn standing(
    report: &SlaReport,
    calendar: &Calendar,
    targets: &Targets,
    warning_percent: i64,
    now: DateTime<Utc>,
) -> Standing {
    let percent = warning_percent.clamp(1, 100);
    let mut pending = Vec::new();
    for target in SlaTarget::ALL.iter().copied() {
        let entries: Vec<_> = report
            .timeline
            .iter()
            .filter(|e| e.target == target)
            .collect();
        let Some(last) = entries.last() else {
            continue;
        };
        let running = matches!(last.event, Milestone::Started | Milestone::Resumed);
        let Some(due_at) = last.due_at.filter(|_| running) else {
            continue;
        };
        let breached = report
            .breaches
            .iter()
            .any(|b| b.target == target && b.due_at == due_at);
        if breached {
            continue;
        }
        let total = match target {
            SlaTarget::FirstResponse => targets.first_response,
            SlaTarget::NextResponse => targets.next_response,
            SlaTarget::Resolution => targets.resolution,
        };
        let total = TimeDelta::minutes(i64::from(total.unwrap_or(0)));
        // The time left when this stretch began: all of it, or what a
        // pause left over.
        let left = match last.event {
            Milestone::Resumed => entries
                .iter()
                .rev()
                .skip(1)
                .find_map(|e| e.remaining_minutes)
                .map_or(total, TimeDelta::minutes),
            _ => total,
        };
        let quiet = total * (100 - percent as i32) / 100;
        let warning_at = if left > quiet {
            add(calendar, targets.business_hours, last.at, left - quiet).unwrap_or(due_at)
        } else {
            last.at
        };
        pending.push(Pending {
            target,
            due_at,
            warning_at: warning_at.min(due_at),
        });
    }
    pending.sort_by_key(|p| p.due_at);
    let state = if !report.breaches.is_empty() {
        SlaState::Breached
    } else if pending.iter().any(|p| p.warning_at <= now) {
        SlaState::Warning
    } else {
        SlaState::Ok
    };
    Standing {
        first_response_due_at: report.first_response_due_at,
        next_response_due_at: report.next_response_due_at,
        resolution_due_at: report.resolution_due_at,
        pending,
        state,
    }
}

fn add(
    calendar: &Calendar,
    business: bool,
    from: DateTime<Utc>,
    amount: TimeDelta,
) -> Option<DateTime<Utc>> {
    if business {
        calendar.add(from, amount)
    } else {
        from.checked_add_signed(amount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::sla::PolicyConditions;
    use crate::domain::ticket::TicketStatus;
    use crate::engine::sla::clock::{SlaEvent, SlaEventKind, evaluate};

    fn policy(name: &str, position: i64, conditions: PolicyConditions) -> SlaPolicy {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        SlaPolicy {
            id: Uuid::now_v7(),
            name: name.into(),
            position,
            active: true,
            calendar_id: Uuid::nil(),
            conditions,
            first_response_minutes: Some(60),
            next_response_minutes: Some(120),
            resolution_minutes: Some(480),
            business_hours: false,
            warning_percent: 75,
            raise_priority: None,
            reassign_team_id: None,
            created_at: at,
            updated_at: at,
        }
    }

    fn facts(priority: Priority, tags: &[String]) -> TicketFacts<'_> {
        TicketFacts {
            priority,
            severity: None,
            category_id: None,
            team_id: None,
            channel: Channel::Web,
            company_id: None,
            tags,
        }
    }

    #[test]
    fn the_first_active_matching_policy_by_position_applies_and_says_why() {
        let urgent = policy(
            "Urgent",
            1,
            PolicyConditions {
                priority: vec!["urgent".into(), "high".into()],
                channel: vec!["web".into()],
                ..Default::default()
            },
        );
        let vip = policy(
            "VIP",
            2,
            PolicyConditions {
                tags: vec!["vip".into()],
                ..Default::default()
            },
        );
        let default = policy("Default", 3, PolicyConditions::default());
        let policies = vec![default.clone(), vip.clone(), urgent.clone()];
        let tags = vec!["billing".to_owned(), "vip".to_owned()];

        let (chosen, why) = match_policy(&policies, &facts(Priority::High, &tags)).unwrap();
        assert_eq!(chosen.name, "Urgent");
        assert_eq!(why, ["priority = high", "channel = web"]);

        let (chosen, why) = match_policy(&policies, &facts(Priority::Low, &tags)).unwrap();
        assert_eq!(chosen.name, "VIP");
        assert_eq!(why, ["tags include vip"]);

        let (chosen, why) = match_policy(&policies, &facts(Priority::Low, &[])).unwrap();
        assert_eq!(chosen.name, "Default");
        assert!(why.is_empty());
    }

    #[test]
    fn inactive_policies_are_skipped_and_no_match_is_none() {
        let mut urgent = policy(
            "Urgent",
            1,
            PolicyConditions {
                priority: vec!["urgent".into()],
                ..Default::default()
            },
        );
        assert!(match_policy(&[urgent.clone()], &facts(Priority::Low, &[])).is_none());
        urgent.active = false;
        assert!(match_policy(&[urgent], &facts(Priority::Urgent, &[])).is_none());
        let team = Uuid::now_v7();
        let by_team = policy(
            "Team",
            1,
            PolicyConditions {
                team: vec![team],
                ..Default::default()
            },
        );
        let mut ticket = facts(Priority::Low, &[]);
        assert!(match_policy(&[by_team.clone()], &ticket).is_none());
        ticket.team_id = Some(team);
        let (_, why) = match_policy(&[by_team], &ticket).unwrap();
        assert_eq!(why, [format!("team = {team}")]);
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn standing_lists_pending_targets_with_warning_instants_and_state() {
        let p = policy("Default", 1, PolicyConditions::default());
        let targets = targets(&p);
        let created = at("2026-11-23T10:00:00Z");
        let events = [SlaEvent {
            at: created,
            kind: SlaEventKind::Created,
        }];
        let calendar = Calendar::AlwaysOpen;
        let now = created + TimeDelta::minutes(10);
        let report = evaluate(&calendar, &targets, &events, now);
        let s = standing(&report, &calendar, &targets, 75, now);
        assert_eq!(s.state, SlaState::Ok);
        assert_eq!(s.due_at(), Some(created + TimeDelta::minutes(60)));
        assert_eq!(s.warning_at(), Some(created + TimeDelta::minutes(45)));
        assert_eq!(s.pending.len(), 2, "first response and resolution");

        let now = created + TimeDelta::minutes(50);
        let report = evaluate(&calendar, &targets, &events, now);
        assert_eq!(
            standing(&report, &calendar, &targets, 75, now).state,
            SlaState::Warning
        );

        let now = created + TimeDelta::minutes(61);
        let report = evaluate(&calendar, &targets, &events, now);
        let s = standing(&report, &calendar, &targets, 75, now);
        assert_eq!(s.state, SlaState::Breached);
        assert_eq!(s.pending.len(), 1, "only resolution is still pending");
        assert_eq!(s.pending[0].target, SlaTarget::Resolution);
    }

    #[test]
    fn a_paused_resolution_is_not_pending_and_resumes_with_its_time_left() {
        let p = policy("Default", 1, PolicyConditions::default());
        let mut targets = targets(&p);
        targets.first_response = None;
        let created = at("2026-11-23T10:00:00Z");
        let mut events = vec![
            SlaEvent {
                at: created,
                kind: SlaEventKind::Created,
            },
            SlaEvent {
                at: created + TimeDelta::minutes(100),
                kind: SlaEventKind::Status(TicketStatus::Pending),
            },
        ];
        let calendar = Calendar::AlwaysOpen;
        let now = created + TimeDelta::hours(20);
        let report = evaluate(&calendar, &targets, &events, now);
        let s = standing(&report, &calendar, &targets, 75, now);
        assert!(s.pending.is_empty());
        assert_eq!(s.state, SlaState::Ok);

        events.push(SlaEvent {
            at: now,
            kind: SlaEventKind::Status(TicketStatus::Open),
        });
        let report = evaluate(&calendar, &targets, &events, now);
        let s = standing(&report, &calendar, &targets, 75, now);
        // 380 of 480 minutes left; the warning comes at 360 used, 260 from now.
        assert_eq!(s.due_at(), Some(now + TimeDelta::minutes(380)));
        assert_eq!(s.warning_at(), Some(now + TimeDelta::minutes(260)));
    }
}

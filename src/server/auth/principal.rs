//! Who acts: a signed-in person — with the role and active flag the
//! database holds *now*, read on every request, so a demotion or a
//! deactivation takes effect at once — or the system itself (automation
//! rules, the SLA clock, imports, channels), which acts for an organization
//! without a person behind it. Services take a `Principal`, never token
//! claims, and ask the policy (`domain::policy`) what it may do.

use crate::domain::event::{Actor, Source};
use crate::domain::policy::{Capability, permits};
use crate::domain::{ApiError, Role, wire_enum};
use uuid::Uuid;

/// A signed-in person as the database knows them this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: Uuid,
    pub org: Uuid,
    pub role: Role,
    pub name: String,
}

wire_enum! {
    /// Why the system acts.
    SystemReason {
        Rule => "rule",
        Sla => "sla",
        Import => "import",
        Channel => "channel",
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    User(Person),
    System { org: Uuid, reason: SystemReason },
}

/// Which of the organization's tickets a principal sees at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketScope {
    /// Every ticket of the organization (staff who read tickets, the system).
    All,
    /// The tickets this person asked for (customers).
    RequestedBy(Uuid),
    /// The tickets linked to this technician's jobs. Work orders come with
    /// field service; until then no ticket is linked to a job.
    LinkedToJobsOf(Uuid),
}

impl Principal {
    pub fn org(&self) -> Uuid {
        match self {
            Principal::User(person) => person.org,
            Principal::System { org, .. } => *org,
        }
    }

    /// The person acting, if one is.
    pub fn user_id(&self) -> Option<Uuid> {
        match self {
            Principal::User(person) => Some(person.id),
            Principal::System { .. } => None,
        }
    }

    /// Whether the policy lets this principal do `capability`. The system
    /// may do whatever its rules ask: the person who wrote the rule was
    /// authorized when they wrote it.
    pub fn may(&self, capability: Capability) -> bool {
        match self {
            Principal::User(person) => permits(person.role, capability),
            Principal::System { .. } => true,
        }
    }

    /// `may`, as a 403 for the caller.
    pub fn require(&self, capability: Capability) -> Result<(), ApiError> {
        if self.may(capability) {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }

    /// The person acting, for what only a person can do (write as an
    /// author, ask for their own things); the system is refused.
    pub fn person(&self) -> Result<&Person, ApiError> {
        match self {
            Principal::User(person) => Ok(person),
            Principal::System { .. } => Err(ApiError::forbidden()),
        }
    }

    /// The role the engine's change rules apply: the person's; for the
    /// system an administrator's, as it may do whatever its rules ask.
    pub fn acting_role(&self) -> Role {
        match self {
            Principal::User(person) => person.role,
            Principal::System { .. } => Role::Admin,
        }
    }

    /// How messages and notifications name the principal.
    pub fn display_name(&self) -> &str {
        match self {
            Principal::User(person) => &person.name,
            Principal::System { .. } => "Fieldesk",
        }
    }

    pub fn is_customer(&self) -> bool {
        matches!(self, Principal::User(p) if p.role == Role::Customer)
    }

    pub fn ticket_scope(&self) -> TicketScope {
        match self {
            Principal::System { .. } => TicketScope::All,
            Principal::User(p) if permits(p.role, Capability::ReadAllTickets) => TicketScope::All,
            Principal::User(p) if p.role == Role::Technician => TicketScope::LinkedToJobsOf(p.id),
            Principal::User(p) => TicketScope::RequestedBy(p.id),
        }
    }

    /// Who did it and through what, for the audit trail and events.
    pub fn actor(&self, source: Source) -> Actor {
        let source = match self {
            Principal::User(_) => source,
            Principal::System { reason, .. } => match reason {
                SystemReason::Import => Source::Import,
                SystemReason::Channel => Source::Email,
                SystemReason::Rule | SystemReason::Sla => Source::Rule,
            },
        };
        Actor {
            user_id: self.user_id(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(role: Role) -> Principal {
        Principal::User(Person {
            id: Uuid::now_v7(),
            org: Uuid::now_v7(),
            role,
            name: "P".into(),
        })
    }

    #[test]
    fn people_follow_the_matrix_and_the_system_may_act() {
        let system = Principal::System {
            org: Uuid::now_v7(),
            reason: SystemReason::Sla,
        };
        assert!(system.may(Capability::ChangeTicketFields));
        assert!(system.person().is_err());
        assert_eq!(system.actor(Source::Ui).source, Source::Rule);
        assert_eq!(system.actor(Source::Ui).user_id, None);
        assert!(
            person(Role::Agent)
                .require(Capability::MergeTickets)
                .is_ok()
        );
        assert_eq!(
            person(Role::Executive)
                .require(Capability::ChangeTicketFields)
                .unwrap_err()
                .kind
                .status(),
            403
        );
    }

    #[test]
    fn ticket_scope_by_role() {
        assert_eq!(person(Role::Executive).ticket_scope(), TicketScope::All);
        let customer = person(Role::Customer);
        assert_eq!(
            customer.ticket_scope(),
            TicketScope::RequestedBy(customer.user_id().unwrap())
        );
        let technician = person(Role::Technician);
        assert_eq!(
            technician.ticket_scope(),
            TicketScope::LinkedToJobsOf(technician.user_id().unwrap())
        );
    }
}

//! Who may do what: the one authorization policy. Services ask it before
//! they act (for REST handlers and server functions alike), the engine's
//! change rules ask it, and the UI draws its navigation and buttons from it,
//! so what a person is shown is what the server lets them do.
//!
//! A capability is a kind of action. Whether a role has it is the matrix
//! below; which records a person may touch at all (their own tickets for a
//! customer, the organization's for staff) is visibility, decided by the
//! services before any capability or input is looked at — another
//! organization's ticket is "not found" whatever the caller may do.

use super::Role;
use super::wire_enum;

wire_enum! {
    /// A kind of action the policy decides.
    Capability {
        ReadAllTickets => "read_all_tickets",
        ReadInternalNotes => "read_internal_notes",
        CreateTickets => "create_tickets",
        Reply => "reply",
        WriteInternalNotes => "write_internal_notes",
        ChangeTicketFields => "change_ticket_fields",
        MergeTickets => "merge_tickets",
        BulkEdit => "bulk_edit",
        DeleteTickets => "delete_tickets",
        RateAgents => "rate_agents",
        ReadDeskSetup => "read_desk_setup",
        ManageUsers => "manage_users",
        ManageSettings => "manage_settings",
        ManageSla => "manage_sla",
        ViewAnalytics => "view_analytics",
        DispatchWork => "dispatch_work",
        WorkAssignedJobs => "work_assigned_jobs",
    }
}

impl Capability {
    /// What the capability lets a person do, for documentation and the
    /// admin area.
    pub fn description(self) -> &'static str {
        use Capability::*;
        match self {
            ReadAllTickets => "See every ticket of the organization (else only one's own)",
            ReadInternalNotes => {
                "Read internal notes, internal files, the audit trail and escalations"
            }
            CreateTickets => "Open tickets (customers for themselves)",
            Reply => "Write public messages and attach public files",
            WriteInternalNotes => "Write internal notes and internal files; use canned responses",
            ChangeTicketFields => {
                "Change status, priority, assignee, team, tags and custom fields; escalate"
            }
            MergeTickets => "Merge and split tickets",
            BulkEdit => "Change many tickets at once from a queue",
            DeleteTickets => "Delete tickets",
            RateAgents => "Rate how agents handled tickets",
            ReadDeskSetup => "Read teams, skills, companies, canned responses and the staff list",
            ManageUsers => "Create users, change roles, deactivate accounts",
            ManageSettings => {
                "Change the desk setup, import tickets, read the audit log and runtime health"
            }
            ManageSla => {
                "Set up business calendars and SLA policies, and try them in the simulator"
            }
            ViewAnalytics => "Open the analytics dashboards",
            DispatchWork => "Assign and schedule field work",
            WorkAssignedJobs => "Work the field jobs assigned to oneself",
        }
    }
}

/// The matrix: whether `role` has `capability`. Customers act only on their
/// own tickets (visibility keeps them there); executives read everything and
/// change nothing; technicians work their jobs and see no ticket that is not
/// linked to one of them.
pub fn permits(role: Role, capability: Capability) -> bool {
    use Capability::*;
    use Role::*;
    match capability {
        ReadAllTickets | ReadInternalNotes | ReadDeskSetup => {
            matches!(role, Agent | Manager | Executive | Admin)
        }
        CreateTickets | Reply => matches!(role, Customer | Agent | Manager | Admin),
        WriteInternalNotes | ChangeTicketFields | MergeTickets | BulkEdit => {
            matches!(role, Agent | Manager | Admin)
        }
        // Managers answer for the service levels their teams are held to.
        RateAgents | DispatchWork | ManageSla => matches!(role, Manager | Admin),
        ViewAnalytics => matches!(role, Manager | Executive | Admin),
        DeleteTickets | ManageUsers | ManageSettings => role == Admin,
        WorkAssignedJobs => role == Technician,
    }
}

/// What a route or server function asks of its caller before the service
/// looks at anything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Nobody needs to be signed in (sign-in itself, magic links; each
    /// checks its own credential).
    Anyone,
    /// Any signed-in person; the service scopes what they reach (a
    /// customer's own tickets, one's own profile).
    SignedIn,
    /// A signed-in person whose role has this capability.
    Needs(Capability),
}

impl Gate {
    /// Whether a caller (`None`: not signed in) passes the gate.
    pub fn admits(self, role: Option<Role>) -> bool {
        match (self, role) {
            (Gate::Anyone, _) => true,
            (_, None) => false,
            (Gate::SignedIn, Some(_)) => true,
            (Gate::Needs(capability), Some(role)) => permits(role, capability),
        }
    }

    /// How the OpenAPI document and the docs name the gate.
    pub fn name(self) -> &'static str {
        match self {
            Gate::Anyone => "anyone",
            Gate::SignedIn => "signed_in",
            Gate::Needs(capability) => capability.as_str(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Capability::*;
    use Role::*;

    /// The matrix as docs/ARCHITECTURE.md states it, written out in full so
    /// a change to `permits` has to change this table (and the docs) too.
    const MATRIX: &[(Capability, &[Role])] = &[
        (ReadAllTickets, &[Agent, Manager, Executive, Admin]),
        (ReadInternalNotes, &[Agent, Manager, Executive, Admin]),
        (CreateTickets, &[Customer, Agent, Manager, Admin]),
        (Reply, &[Customer, Agent, Manager, Admin]),
        (WriteInternalNotes, &[Agent, Manager, Admin]),
        (ChangeTicketFields, &[Agent, Manager, Admin]),
        (MergeTickets, &[Agent, Manager, Admin]),
        (BulkEdit, &[Agent, Manager, Admin]),
        (DeleteTickets, &[Admin]),
        (RateAgents, &[Manager, Admin]),
        (ReadDeskSetup, &[Agent, Manager, Executive, Admin]),
        (ManageUsers, &[Admin]),
        (ManageSettings, &[Admin]),
        (ManageSla, &[Manager, Admin]),
        (ViewAnalytics, &[Manager, Executive, Admin]),
        (DispatchWork, &[Manager, Admin]),
        (WorkAssignedJobs, &[Technician]),
    ];

    #[test]
    fn the_matrix_is_as_documented() {
        assert_eq!(
            MATRIX.len(),
            Capability::ALL.len(),
            "every capability listed"
        );
        for (capability, roles) in MATRIX {
            for role in Role::ALL {
                assert_eq!(
                    permits(role, *capability),
                    roles.contains(&role),
                    "{role} × {}",
                    capability.as_str()
                );
            }
        }
    }

    #[test]
    fn executives_read_and_change_nothing() {
        for capability in Capability::ALL {
            let writes = !matches!(
                capability,
                ReadAllTickets | ReadInternalNotes | ReadDeskSetup | ViewAnalytics
            );
            if writes {
                assert!(!permits(Executive, *capability), "{}", capability.as_str());
            }
        }
    }

    #[test]
    fn customers_never_read_internal_things() {
        for capability in [
            ReadAllTickets,
            ReadInternalNotes,
            WriteInternalNotes,
            ReadDeskSetup,
        ] {
            assert!(!permits(Customer, capability));
        }
    }

    #[test]
    fn gates_admit_by_capability_and_sign_in() {
        assert!(Gate::Anyone.admits(None));
        assert!(!Gate::SignedIn.admits(None));
        assert!(Gate::SignedIn.admits(Some(Customer)));
        assert!(!Gate::Needs(MergeTickets).admits(None));
        assert!(!Gate::Needs(MergeTickets).admits(Some(Executive)));
        assert!(Gate::Needs(MergeTickets).admits(Some(Agent)));
        assert_eq!(Gate::Needs(BulkEdit).name(), "bulk_edit");
    }
}

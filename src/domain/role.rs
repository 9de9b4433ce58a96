//! Roles and what each may do. Pure data, shared by server and browser, so the
//! UI shows the same navigation the server enforces.

use super::policy::{Capability, permits};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Customer,
    Agent,
    Manager,
    Executive,
    Admin,
    Technician,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Customer,
        Role::Agent,
        Role::Manager,
        Role::Executive,
        Role::Admin,
        Role::Technician,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Agent => "agent",
            Role::Manager => "manager",
            Role::Executive => "executive",
            Role::Admin => "admin",
            Role::Technician => "technician",
        }
    }

    /// Human label used in the UI.
    pub fn label(self) -> &'static str {
        match self {
            Role::Customer => "Customer",
            Role::Agent => "Support executive",
            Role::Manager => "Support manager",
            Role::Executive => "Executive",
            Role::Admin => "Administrator",
            Role::Technician => "Field technician",
        }
    }

    /// Everyone who works for the organization, as opposed to its customers.
    pub fn is_staff(self) -> bool {
        self != Role::Customer
    }

    /// The page each role lands on after signing in.
    pub fn home_path(self) -> &'static str {
        match self {
            Role::Customer => "/portal",
            Role::Agent => "/desk",
            Role::Manager => "/manager",
            Role::Executive => "/exec",
            Role::Admin => "/admin",
            Role::Technician => "/field",
        }
    }

    /// Whether this role may open an area of the app: the area's
    /// capability in the policy. Managers can work the desk as agents do;
    /// admins can see every staff area to support their colleagues; the
    /// customer portal is for customers only.
    pub fn may_enter(self, area: Area) -> bool {
        use Capability::*;
        match area {
            Area::Portal => self == Role::Customer,
            Area::Desk => permits(self, ChangeTicketFields),
            Area::Manager => permits(self, DispatchWork),
            Area::Executive => permits(self, ViewAnalytics),
            Area::Admin => permits(self, ManageSettings),
            Area::Field => permits(self, WorkAssignedJobs) || permits(self, DispatchWork),
        }
    }

    /// The areas this role sees in its navigation, home first.
    pub fn areas(self) -> Vec<Area> {
        let home = Area::home_of(self);
        let mut areas = vec![home];
        areas.extend(
            Area::ALL
                .into_iter()
                .filter(|a| *a != home && self.may_enter(*a)),
        );
        areas
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// A top-level area of the app, one per audience.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Area {
    Portal,
    Desk,
    Manager,
    Executive,
    Admin,
    Field,
}

impl Area {
    pub const ALL: [Area; 6] = [
        Area::Portal,
        Area::Desk,
        Area::Manager,
        Area::Executive,
        Area::Admin,
        Area::Field,
    ];

    pub fn home_of(role: Role) -> Area {
        match role {
            Role::Customer => Area::Portal,
            Role::Agent => Area::Desk,
            Role::Manager => Area::Manager,
            Role::Executive => Area::Executive,
            Role::Admin => Area::Admin,
            Role::Technician => Area::Field,
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Area::Portal => "/portal",
            Area::Desk => "/desk",
            Area::Manager => "/manager",
            Area::Executive => "/exec",
            Area::Admin => "/admin",
            Area::Field => "/field",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Area::Portal => "Customer portal",
            Area::Desk => "Agent desk",
            Area::Manager => "Manager dashboard",
            Area::Executive => "Executive dashboard",
            Area::Admin => "Administration",
            Area::Field => "Field service",
        }
    }

    /// Short name for navigation links.
    pub fn nav_label(self) -> &'static str {
        match self {
            Area::Portal => "My tickets",
            Area::Desk => "Desk",
            Area::Manager => "Manager",
            Area::Executive => "Analytics",
            Area::Admin => "Admin",
            Area::Field => "Field",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(
                serde_json::to_string(&role).unwrap(),
                format!("\"{}\"", role.as_str())
            );
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn every_role_may_enter_its_own_home() {
        for role in Role::ALL {
            let home = Area::home_of(role);
            assert!(role.may_enter(home), "{role} locked out of {home:?}");
            assert_eq!(home.path(), role.home_path());
            assert_eq!(role.areas()[0], home);
        }
    }

    #[test]
    fn customers_only_reach_the_portal() {
        for area in Area::ALL {
            assert_eq!(Role::Customer.may_enter(area), area == Area::Portal);
        }
        assert!(!Role::Customer.is_staff());
    }

    #[test]
    fn staff_never_enter_the_customer_portal_and_only_admins_administer() {
        for role in Role::ALL.into_iter().filter(|r| r.is_staff()) {
            assert!(!role.may_enter(Area::Portal));
            assert_eq!(role.may_enter(Area::Admin), role == Role::Admin);
        }
    }
}

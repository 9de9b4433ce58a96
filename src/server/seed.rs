//! Demo data: two organizations with one user per role, so a new user can
//! try every audience and tenant isolation right away.

use super::auth::password::hash_password_blocking;
use super::db::users::{self, NewUser};
use super::db::{Db, orgs};
use crate::domain::Role;

pub struct DemoUser {
    pub org: &'static str,
    pub email: &'static str,
    pub name: &'static str,
    pub role: Role,
}

pub const DEMO_ORGS: [(&str, &str); 2] = [
    ("acme", "Acme Corporation"),
    ("globex", "Globex Industries"),
];

pub const DEMO_USERS: [DemoUser; 11] = [
    DemoUser {
        org: "acme",
        email: "admin@acme.test",
        name: "Avery Admin",
        role: Role::Admin,
    },
    DemoUser {
        org: "acme",
        email: "manager@acme.test",
        name: "Morgan Manager",
        role: Role::Manager,
    },
    DemoUser {
        org: "acme",
        email: "ceo@acme.test",
        name: "Casey Chief",
        role: Role::Executive,
    },
    DemoUser {
        org: "acme",
        email: "agent@acme.test",
        name: "Alex Agent",
        role: Role::Agent,
    },
    DemoUser {
        org: "acme",
        email: "agent2@acme.test",
        name: "Jordan Agent",
        role: Role::Agent,
    },
    DemoUser {
        org: "acme",
        email: "tech@acme.test",
        name: "Taylor Technician",
        role: Role::Technician,
    },
    DemoUser {
        org: "acme",
        email: "customer@acme.test",
        name: "Chris Customer",
        role: Role::Customer,
    },
    DemoUser {
        org: "acme",
        email: "customer2@acme.test",
        name: "Robin Customer",
        role: Role::Customer,
    },
    DemoUser {
        org: "globex",
        email: "admin@globex.test",
        name: "Gale Admin",
        role: Role::Admin,
    },
    DemoUser {
        org: "globex",
        email: "agent@globex.test",
        name: "Glen Agent",
        role: Role::Agent,
    },
    DemoUser {
        org: "globex",
        email: "customer@globex.test",
        name: "Gray Customer",
        role: Role::Customer,
    },
];

#[derive(Debug, thiserror::Error)]
#[error("the database already has data; demo seeding only runs on an empty database")]
pub struct NotEmpty;

/// Creates the demo organizations and users. Refuses a non-empty database.
pub async fn demo(db: &Db, password: &str) -> anyhow::Result<()> {
    if orgs::any_exist(db).await? {
        return Err(NotEmpty.into());
    }
    // One hash for all demo users: they share the password, and argon2 is slow on purpose.
    let hash = hash_password_blocking(password.to_owned()).await?;
    let mut org_ids = Vec::new();
    for (slug, name) in DEMO_ORGS {
        org_ids.push((slug, orgs::insert(db, slug, name).await?.id));
    }
    for user in &DEMO_USERS {
        let organization_id = org_ids
            .iter()
            .find(|(slug, _)| *slug == user.org)
            .map(|(_, id)| *id)
            .expect("demo users belong to demo orgs");
        users::insert(
            db,
            &NewUser {
                organization_id,
                email: user.email,
                name: user.name,
                role: user.role,
                password_hash: &hash,
            },
        )
        .await?;
    }
    Ok(())
}

/// What the console shows after seeding.
pub fn credentials_banner(password: &str) -> String {
    let mut out = String::from("Demo accounts (all use the same password):\n");
    for user in &DEMO_USERS {
        out.push_str(&format!("  {:<24} {}\n", user.email, user.role.label()));
    }
    out.push_str(&format!("  password: {password}\n"));
    out
}

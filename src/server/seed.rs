//! Demo data: two organizations with one user per role, so a new user can
//! try every audience and tenant isolation right away.

use super::audit::Origin;
use super::auth::password::hash_password_blocking;
use super::db::tickets::{self, Change, NewComment, NewTicket};
use super::db::users::{self, NewUser};
use super::db::{Db, orgs};
use crate::domain::Role;
use crate::domain::event::{Actor, ChangeEvent, DomainEvent, Source};
use crate::domain::ticket::{Channel, Priority, TicketStatus};
use crate::engine::ticket_change::{TicketPatch, plan_comment, plan_update};
use chrono::{TimeDelta, Utc};
use uuid::Uuid;

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

/// Creates the demo organizations, users and a handful of tickets. Refuses
/// a non-empty database.
pub async fn demo(db: &Db, password: &str) -> anyhow::Result<()> {
    demo_users(db, password).await?;
    demo_desk(db).await?;
    demo_tickets(db).await?;
    demo_sla(db).await
}

/// Acme's service levels: a Berlin business-hours calendar and two
/// policies (urgent first, then everything else), so queues show due
/// badges and tickets their SLA timeline. Added after the tickets, whose
/// history lies in the past: the re-evaluation it plans (run at start)
/// gives them their due times, records the clocks already overdue as
/// breached without paging anyone, and plans the timers still ahead.
async fn demo_sla(db: &Db) -> anyhow::Result<()> {
    use super::db::sla as store;
    use crate::domain::sla::{PolicyConditions, SlaCalendar, SlaPolicy};
    let org = orgs::find_by_slug(db, "acme")
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo organization acme missing"))?
        .id;
    let now = Utc::now();
    let day = || vec![vec!["08:00".to_owned(), "18:00".to_owned()]];
    let calendar = SlaCalendar {
        id: Uuid::now_v7(),
        name: "Business hours".into(),
        timezone: Some("Europe/Berlin".into()),
        always_open: false,
        hours: ["mon", "tue", "wed", "thu", "fri"]
            .into_iter()
            .map(|d| (d.to_owned(), day()))
            .collect(),
        holidays: vec!["01-01".into(), "12-25".into(), "12-26".into()],
        active: true,
        created_at: now,
        updated_at: now,
    };
    let policy = |name: &str, position: i64, priority: Vec<String>, minutes: [i64; 3]| SlaPolicy {
        id: Uuid::now_v7(),
        name: name.into(),
        position,
        active: true,
        calendar_id: calendar.id,
        conditions: PolicyConditions {
            priority,
            ..PolicyConditions::default()
        },
        first_response_minutes: Some(minutes[0]),
        next_response_minutes: Some(minutes[1]),
        resolution_minutes: Some(minutes[2]),
        business_hours: true,
        warning_percent: crate::domain::sla::DEFAULT_WARNING_PERCENT,
        raise_priority: None,
        reassign_team_id: None,
        created_at: now,
        updated_at: now,
    };
    let mut tx = db.begin().await?;
    store::save_calendar(&mut tx, org, &calendar).await?;
    store::save_policy(
        &mut tx,
        org,
        &policy("Urgent", 1, vec!["urgent".into()], [60, 240, 480]),
    )
    .await?;
    store::save_policy(
        &mut tx,
        org,
        &policy("Default", 2, Vec::new(), [240, 480, 2880]),
    )
    .await?;
    super::sla::reevaluate::plan(&mut tx, org, now).await?;
    tx.commit().await?;
    super::sla::track::forget(org);
    Ok(())
}

/// Acme's desk setup: two teams, a skill, categories routed to the teams,
/// custom fields and canned responses, so every screen has something real.
async fn demo_desk(db: &Db) -> anyhow::Result<()> {
    use super::db::desk::{self, TeamChanges};
    use crate::domain::desk::{
        AgentSkill, AssignmentStrategy, CannedResponse, Category, CustomField, FieldKind, Skill,
    };
    let org = orgs::find_by_slug(db, "acme")
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo organization acme missing"))?
        .id;
    let id_of = async |email: &str| -> anyhow::Result<Uuid> {
        Ok(users::find_by_email(db, email)
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo user {email} missing"))?
            .id)
    };
    let (alex, jordan) = (
        id_of("agent@acme.test").await?,
        id_of("agent2@acme.test").await?,
    );
    let support = Uuid::now_v7();
    let billing = Uuid::now_v7();
    // One transaction for the whole setup (not audited: nobody changed it).
    let mut tx = db.begin().await?;
    for (id, name, assignment, members) in [
        (
            support,
            "Support",
            AssignmentStrategy::RoundRobin,
            vec![alex, jordan],
        ),
        (
            billing,
            "Billing",
            AssignmentStrategy::LeastLoaded,
            vec![jordan],
        ),
    ] {
        let changes = TeamChanges {
            name: Some(name),
            assignment: Some(assignment),
            members: Some(&members),
        };
        desk::save_team(&mut tx, org, id, true, &changes).await?;
    }
    let german = Skill {
        id: Uuid::now_v7(),
        name: "German".into(),
    };
    desk::insert_skill(&mut tx, org, &german).await?;
    let skill = AgentSkill {
        skill_id: german.id,
        proficiency: 4,
    };
    desk::set_agent_skills(&mut tx, org, alex, &[skill]).await?;
    for (name, team) in [
        ("Hardware", support),
        ("Invoices", billing),
        ("Access & accounts", support),
    ] {
        let category = Category {
            id: Uuid::now_v7(),
            name: name.into(),
            team_id: Some(team),
            skill_id: None,
        };
        desk::save_category(&mut tx, org, &category).await?;
    }
    let fields = [
        (
            "order_number",
            "Order number",
            FieldKind::Text,
            vec![],
            true,
        ),
        (
            "device",
            "Device",
            FieldKind::Select,
            vec!["Laptop", "Printer", "Phone"],
            true,
        ),
        (
            "churn_risk",
            "Churn risk",
            FieldKind::Select,
            vec!["Low", "Medium", "High"],
            false,
        ),
    ];
    for (position, (key, label, kind, options, customer_visible)) in fields.into_iter().enumerate()
    {
        let field = CustomField {
            id: Uuid::now_v7(),
            key: key.into(),
            label: label.into(),
            kind,
            options: options.into_iter().map(String::from).collect(),
            required: false,
            customer_visible,
            position: position as i32,
        };
        desk::save_custom_field(&mut tx, org, &field).await?;
    }
    for (title, body) in [
        (
            "Greeting",
            "Hi {{customer.first_name}},\n\nthanks for contacting us about {{ticket.number}}. ",
        ),
        (
            "Solved?",
            "Hi {{customer.first_name}}, we believe {{ticket.number}} is solved. Reply if anything is still wrong.\n\n{{agent.name}}",
        ),
    ] {
        let canned = CannedResponse {
            id: Uuid::now_v7(),
            title: title.into(),
            body: body.into(),
        };
        desk::save_canned_response(&mut tx, org, &canned).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The demo organizations and users only (tests start from these).
pub async fn demo_users(db: &Db, password: &str) -> anyhow::Result<()> {
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
        // Demo accounts are not audited: nobody created them.
        let mut tx = db.begin().await?;
        users::insert(
            &mut tx,
            &NewUser {
                organization_id,
                email: user.email,
                name: user.name,
                role: user.role,
                password_hash: &hash,
            },
        )
        .await?;
        tx.commit().await?;
    }
    Ok(())
}

/// A demo conversation: who asked what, and how the desk answered.
struct DemoTicket {
    subject: &'static str,
    description: &'static str,
    requester: &'static str,
    priority: Priority,
    channel: Channel,
    hours_ago: i64,
    /// (author email, body, public)
    messages: &'static [(&'static str, &'static str, bool)],
    assignee: Option<&'static str>,
    status: Option<TicketStatus>,
}

const DEMO_TICKETS: &[DemoTicket] = &[
    DemoTicket {
        subject: "Cannot sign in to the billing portal",
        description: "Since this morning the billing portal says my password is wrong, but it works everywhere else.",
        requester: "customer@acme.test",
        priority: Priority::High,
        channel: Channel::Portal,
        hours_ago: 30,
        messages: &[
            (
                "agent@acme.test",
                "Account was migrated to SSO last night; password login is disabled.",
                false,
            ),
            (
                "agent@acme.test",
                "Sorry for the trouble! Please use \"Sign in with your company account\" from now on.",
                true,
            ),
            ("customer@acme.test", "That worked, thank you.", true),
        ],
        assignee: Some("agent@acme.test"),
        status: Some(TicketStatus::Resolved),
    },
    DemoTicket {
        subject: "Invoice 2024-118 charged twice",
        description: "My card was charged twice for invoice 2024-118. Please refund one of the payments.",
        requester: "customer@acme.test",
        priority: Priority::Urgent,
        channel: Channel::Email,
        hours_ago: 5,
        messages: &[(
            "agent2@acme.test",
            "Refund requested from the payment provider; waiting for confirmation.",
            false,
        )],
        assignee: Some("agent2@acme.test"),
        status: Some(TicketStatus::Pending),
    },
    DemoTicket {
        subject: "Air conditioner in server room leaking",
        description: "Water is dripping from the indoor unit above rack 3. Can someone come today?",
        requester: "customer2@acme.test",
        priority: Priority::Urgent,
        channel: Channel::Phone,
        hours_ago: 2,
        messages: &[],
        assignee: None,
        status: None,
    },
    DemoTicket {
        subject: "How do I export my reports to Excel?",
        description: "I would like to get the monthly usage report as a spreadsheet.",
        requester: "customer2@acme.test",
        priority: Priority::Low,
        channel: Channel::Portal,
        hours_ago: 1,
        messages: &[],
        assignee: None,
        status: None,
    },
    DemoTicket {
        subject: "Printer on floor 2 shows error E-42",
        description: "The big printer near the kitchen shows E-42 and will not print.",
        requester: "customer@globex.test",
        priority: Priority::Medium,
        channel: Channel::Portal,
        hours_ago: 4,
        messages: &[(
            "agent@globex.test",
            "E-42 is a fuser fault; a technician visit is needed.",
            true,
        )],
        assignee: Some("agent@globex.test"),
        status: None,
    },
];

/// One thing that happens to a demo ticket, done by the named user.
#[derive(Clone, Copy)]
enum Step {
    Assign,
    Message(&'static str, bool),
    Status(TicketStatus),
}

async fn demo_tickets(db: &Db) -> anyhow::Result<()> {
    for demo in DEMO_TICKETS {
        let user = async |email: &str| {
            users::find_by_email(db, email)
                .await?
                .ok_or_else(|| anyhow::anyhow!("demo user {email} missing"))
        };
        let requester = user(demo.requester).await?;
        let mut at = Utc::now() - TimeDelta::hours(demo.hours_ago);
        let origin = Origin::internal(Source::Import);
        let actor = |user_id: Uuid| Actor {
            user_id: Some(user_id),
            source: Source::Import,
        };
        let new = NewTicket::plain(
            requester.organization_id,
            requester.id,
            demo.subject,
            demo.description,
            demo.priority,
            demo.channel,
        );
        let mut tx = db.begin().await?;
        let ticket =
            tickets::insert(&mut tx, &new, actor(requester.id), &origin, false, at).await?;
        tx.commit().await?;
        // Each step goes through the same planning and storage as a live change.
        let assign = demo.assignee.map(|a| (a, Step::Assign));
        let messages = demo
            .messages
            .iter()
            .map(|(author, body, public)| (*author, Step::Message(body, *public)));
        let settle = demo
            .status
            .zip(demo.assignee)
            .map(|(status, agent)| (agent, Step::Status(status)));
        for (email, step) in assign.into_iter().chain(messages).chain(settle) {
            at += TimeDelta::minutes(20);
            let author = user(email).await?;
            let row = tickets::find(db, requester.organization_id, ticket.id)
                .await?
                .expect("just created");
            let (plan, event, comment) = match step {
                Step::Message(body, public) => (
                    plan_comment(&row.state(), author.role(), public, at)?,
                    DomainEvent::TicketCommented as ChangeEvent,
                    Some(NewComment {
                        author_id: author.id,
                        body,
                        public,
                    }),
                ),
                Step::Assign | Step::Status(_) => {
                    let patch = match step {
                        Step::Status(status) => TicketPatch {
                            status: Some(status),
                            ..Default::default()
                        },
                        _ => TicketPatch {
                            assignee_id: Some(Some(author.id)),
                            ..Default::default()
                        },
                    };
                    (
                        plan_update(&row.state(), &patch, author.role(), &[], at)?,
                        DomainEvent::TicketUpdated as ChangeEvent,
                        None,
                    )
                }
            };
            let change = Change {
                ticket: &row,
                next: &plan.next,
                changes: &plan.changes,
                actor: actor(author.id),
                origin: &origin,
                event,
                comment,
                attachments: &[],
            };
            let mut tx = db.begin().await?;
            tickets::apply(&mut tx, &change, at)
                .await?
                .ok_or_else(|| anyhow::anyhow!("demo ticket changed while seeding"))?;
            tx.commit().await?;
        }
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

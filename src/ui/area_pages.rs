//! The home page of each area. Each greets the user and shows what the
//! foundation already knows; later features fill these areas in.

use super::frame::CurrentUser;
use super::people::{Headcount, PeopleTable};
use super::pulse::DeskPulsePanel;
use super::tickets::{DeskQueues, MyRequests};
use crate::domain::{Area, Role};
use leptos::prelude::*;
use leptos_meta::Title;

const FIELD_AND_DESK: &[Role] = &[Role::Agent, Role::Technician];

/// Title, heading and greeting shared by every area home.
#[component]
fn AreaHeader(area: Area, #[prop(into)] lead: String) -> impl IntoView {
    let CurrentUser(user) = expect_context::<CurrentUser>();
    view! {
        <Title text=area.title() />
        <header class="page-header">
            <h1>{area.title()}</h1>
            <p class="lead">{format!("Welcome, {}. ", user.name)}{lead}</p>
        </header>
    }
}

#[component]
pub fn PortalHome() -> impl IntoView {
    let CurrentUser(user) = expect_context::<CurrentUser>();
    view! {
        <AreaHeader area=Area::Portal lead=format!("Ask {} for help and follow your requests here.", user.organization_name) />
        <MyRequests />
    }
}

#[component]
pub fn DeskHome() -> impl IntoView {
    view! {
        <AreaHeader area=Area::Desk lead="Work the queues: unassigned first, then your own." />
        <DeskQueues />
    }
}

#[component]
pub fn ManagerHome() -> impl IntoView {
    view! {
        <AreaHeader area=Area::Manager lead="Your team of support executives and field technicians." />
        <nav aria-label="Management" class="admin-links">
            <a href="/manager/sla">"Service levels"</a>
            <span class="muted">" — business calendars and SLA policies"</span>
        </nav>
        <DeskPulsePanel />
        <PeopleTable caption="Team" roles=FIELD_AND_DESK />
    }
}

#[component]
pub fn ExecutiveHome() -> impl IntoView {
    view! {
        <AreaHeader area=Area::Executive lead="The organization at a glance." />
        <section aria-labelledby="headcount-title">
            <h2 id="headcount-title">"People by role"</h2>
            <div class="kpis"><Headcount /></div>
        </section>
    }
}

#[component]
pub fn AdminHome() -> impl IntoView {
    view! {
        <AreaHeader area=Area::Admin lead="Everyone with an account in your organization." />
        <nav aria-label="Administration" class="admin-links">
            <a href={super::audit::PATH}>"Audit log"</a>
            <span class="muted">" — sign-ins, people, settings and ticket changes"</span>
            <a href={super::notifications::TEMPLATES_PATH}>"Mail templates"</a>
            <span class="muted">" — what customers and staff are mailed"</span>
            <a href="/admin/sla">"Service levels"</a>
            <span class="muted">" — business calendars and SLA policies"</span>
        </nav>
        <PeopleTable caption="Users" roles=&Role::ALL />
    }
}

#[component]
pub fn FieldHome() -> impl IntoView {
    let CurrentUser(user) = expect_context::<CurrentUser>();
    view! {
        <AreaHeader area=Area::Field lead="Your jobs for the day appear here once they are scheduled." />
        <section class="card" aria-labelledby="tech-title">
            <h2 id="tech-title">"On duty"</h2>
            <dl class="facts">
                <dt>"Technician"</dt><dd>{user.name.clone()}</dd>
                <dt>"Organization"</dt><dd>{user.organization_name.clone()}</dd>
            </dl>
        </section>
    }
}

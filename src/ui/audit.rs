//! `/admin/audit`: the organization's audit log for administrators. The
//! filters are a GET form (the URL is the state, so a filtered view can be
//! bookmarked or shared); "Load more" appends the next page in place.

use super::status_pages::ErrorNotice;
use super::tickets::when;
use crate::api::audit::audit_page;
use crate::api::users::list_users;
use crate::domain::ApiError;
use crate::domain::audit::{AuditEntry, AuditPage, AuditQuery, OwnerType};
use crate::domain::event::Source;
use crate::ui::forms::FormAlert;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

pub const PATH: &str = "/admin/audit";

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let params = use_query_map();
    let filters = Memo::new(move |_| {
        let p = params.read();
        AuditQuery {
            owner_type: p.get("owner_type"),
            owner_id: p.get("owner_id"),
            actor_id: p.get("actor_id"),
            from: p.get("from"),
            to: p.get("to"),
            ..AuditQuery::default()
        }
    });
    let first = Resource::new(move || filters.get(), audit_page);
    view! {
        <Title text="Audit log" />
        <header class="page-header">
            <h1>"Audit log"</h1>
            <p class="lead">
                "Who changed what in your organization, when, and from where: tickets, people \
                 (with sign-ins), and the desk setup. Newest first."
            </p>
        </header>
        <AuditFilters filters />
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading the log…"</p> }>
            {move || Suspend::new(async move {
                match first.await {
                    Ok(page) => view! { <AuditRows page filters=filters.get_untracked() /> }.into_any(),
                    Err(error) => view! { <FilterError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

/// A refused filter: the headline and each field's message.
#[component]
fn FilterError(error: ApiError) -> impl IntoView {
    let fields = error
        .fields
        .iter()
        .map(|(field, message)| view! { <li>{format!("{field}: {message}")}</li> })
        .collect_view();
    view! {
        <ErrorNotice error=error.clone() />
        <ul class="audit-errors">{fields}</ul>
    }
}

/// The filter form: kind of owner, owner id, who, and a date range.
#[component]
fn AuditFilters(filters: Memo<AuditQuery>) -> impl IntoView {
    let people = Resource::new(|| (), |_| list_users());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let people = people.await.unwrap_or_default();
                let q = filters.get_untracked();
                let value = |v: &Option<String>| v.clone().unwrap_or_default();
                let (owner_type, actor) = (value(&q.owner_type), value(&q.actor_id));
                let kinds = OwnerType::ALL
                    .iter()
                    .map(|k| {
                        let selected = owner_type == k.as_str();
                        view! { <option value=k.as_str() selected=selected>{k.label()}</option> }
                    })
                    .collect_view();
                let who = people
                    .into_iter()
                    .map(|u| {
                        let id = u.id.to_string();
                        let selected = id == actor;
                        view! { <option value=id selected=selected>{u.name}</option> }
                    })
                    .collect_view();
                view! {
                    <form method="get" action=PATH class="filters audit-filters" aria-label="Filter the log">
                        <label>"Kind" <select name="owner_type"><option value="">"Everything"</option>{kinds}</select></label>
                        <label>"Owner id" <input type="text" name="owner_id" size="20" value=value(&q.owner_id) /></label>
                        <label>"Who" <select name="actor_id"><option value="">"Anyone"</option>{who}</select></label>
                        <label>"From" <input type="date" name="from" value=value(&q.from) /></label>
                        <label>"To" <input type="date" name="to" value=value(&q.to) /></label>
                        <button type="submit" class="btn btn-quiet">"Filter"</button>
                        <a class="btn btn-quiet" href=PATH>"Clear"</a>
                    </form>
                }
            })}
        </Suspense>
    }
}

/// The rows of the first page, and the ones "Load more" appends.
#[component]
fn AuditRows(page: AuditPage, filters: AuditQuery) -> impl IntoView {
    let rows = RwSignal::new(page.items);
    let cursor = RwSignal::new(page.next_cursor);
    let more = Action::new(move |next: &String| {
        let query = AuditQuery {
            cursor: Some(next.clone()),
            ..filters.clone()
        };
        async move {
            let page = audit_page(query).await?;
            rows.update(|shown| shown.extend(page.items));
            cursor.set(page.next_cursor);
            Ok::<(), ApiError>(())
        }
    });
    let error = Signal::derive(move || more.value().get().and_then(Result::err));
    view! {
        <table class="audit-table">
            <caption>"Audit log"</caption>
            <thead>
                <tr>
                    <th scope="col">"When"</th>
                    <th scope="col">"Who"</th>
                    <th scope="col">"What"</th>
                    <th scope="col">"Change"</th>
                    <th scope="col">"From"</th>
                </tr>
            </thead>
            <tbody>
                {move || {
                    let shown = rows.get();
                    if shown.is_empty() {
                        view! { <tr><td colspan="5" class="muted">"Nothing recorded for these filters."</td></tr> }.into_any()
                    } else {
                        shown.into_iter().map(row).collect_view().into_any()
                    }
                }}
            </tbody>
        </table>
        <div class="audit-more">
            <FormAlert error />
            {move || cursor.get().map(|next| view! {
                <button
                    type="button"
                    class="btn btn-quiet"
                    disabled=move || more.pending().get()
                    on:click=move |_| {
                        more.dispatch(next.clone());
                    }
                >
                    "Load more"
                </button>
            })}
        </div>
    }
}

/// A link to the log filtered by one parameter.
fn filtered(name: &str, value: &str) -> String {
    format!("{PATH}?{name}={value}")
}

fn row(e: AuditEntry) -> impl IntoView {
    let who = match (e.actor_id, e.actor_name.clone()) {
        (Some(id), name) => view! {
            <a href=filtered("actor_id", &id.to_string())>{name.unwrap_or_else(|| "Unknown".into())}</a>
        }
        .into_any(),
        (None, _) if e.field == "sign_in_failed" => view! { <span class="muted">"Nobody signed in"</span> }.into_any(),
        (None, _) => view! { <span class="muted">"System"</span> }.into_any(),
    };
    let what = match e.owner_id {
        Some(id) => {
            let href = format!("{PATH}?owner_type={}&owner_id={id}", e.owner_type.as_str());
            let short: String = id.to_string().chars().take(8).collect();
            view! { <a href=href title=id.to_string()>{format!("{} {short}", e.owner_type.label())}</a> }.into_any()
        }
        None => view! { <span>{e.owner_type.label()}</span> }.into_any(),
    };
    let change = change_text(&e);
    let via = match e.source {
        Source::Ui => "web app",
        Source::Api => "API",
        other => other.as_str(),
    };
    let from = match &e.ip {
        Some(ip) => format!("{via} · {ip}"),
        None => via.to_owned(),
    };
    view! {
        <tr>
            <td data-label="When">{when(e.created_at)}</td>
            <td data-label="Who">{who}</td>
            <td data-label="What">{what}</td>
            <td data-label="Change"><strong>{e.field.clone()}</strong>" "{change}</td>
            <td data-label="From" title=e.user_agent.clone().unwrap_or_default()>{from}</td>
        </tr>
    }
}

/// `old → new`, or the one value an action has.
fn change_text(e: &AuditEntry) -> String {
    match (e.old_value.as_deref(), e.new_value.as_deref()) {
        (None, None) => String::new(),
        (None, Some(new)) => new.to_owned(),
        (Some(old), None) => format!("{old} → —"),
        (Some(old), Some(new)) => format!("{old} → {new}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_read_as_arrows() {
        let entry = |old: Option<&str>, new: Option<&str>| AuditEntry {
            id: uuid::Uuid::nil(),
            owner_type: OwnerType::User,
            owner_id: None,
            actor_id: None,
            actor_name: None,
            source: Source::Api,
            field: "role".into(),
            old_value: old.map(Into::into),
            new_value: new.map(Into::into),
            ip: None,
            user_agent: None,
            created_at: chrono::Utc::now(),
        };
        assert_eq!(
            change_text(&entry(Some("agent"), Some("manager"))),
            "agent → manager"
        );
        assert_eq!(change_text(&entry(None, Some("a@b.test"))), "a@b.test");
        assert_eq!(change_text(&entry(Some("Greeting"), None)), "Greeting → —");
        assert_eq!(change_text(&entry(None, None)), "");
    }
}

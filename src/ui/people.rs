//! The organization's people, as a table (admin, manager and desk screens).

use super::status_pages::ErrorNotice;
use crate::api::users::list_users;
use crate::domain::{Role, User};
use leptos::prelude::*;

/// Users of the caller's organization whose role is in `roles`.
#[component]
pub fn PeopleTable(caption: &'static str, roles: &'static [Role]) -> impl IntoView {
    let users = Resource::new(|| (), |_| list_users());
    view! {
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading people…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(users) => {
                        let rows: Vec<User> = users.into_iter().filter(|u| roles.contains(&u.role)).collect();
                        view! {
                            <table class="table">
                                <caption>{caption}</caption>
                                <thead>
                                    <tr><th scope="col">"Name"</th><th scope="col">"Email"</th><th scope="col">"Role"</th></tr>
                                </thead>
                                <tbody>
                                    {rows.into_iter().map(|u| view! {
                                        <tr>
                                            <td>{u.name}</td>
                                            <td>{u.email}</td>
                                            <td><span class=format!("badge badge-{}", u.role.as_str())>{u.role.label()}</span></td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Head count per role, for the executive overview.
#[component]
pub fn Headcount() -> impl IntoView {
    let users = Resource::new(|| (), |_| list_users());
    view! {
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(users) => {
                        Role::ALL.into_iter().map(|role| {
                            let count = users.iter().filter(|u| u.role == role).count();
                            view! {
                                <div class="kpi">
                                    <span class="kpi-value">{count}</span>
                                    <span class="kpi-label">{role.label()}</span>
                                </div>
                            }
                        }).collect_view().into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

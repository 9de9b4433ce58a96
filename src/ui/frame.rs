//! The signed-in layout: top bar with the role's navigation, the user and
//! sign-out; and `Protected`, which admits only the right roles.

use super::live::{self, LiveIndicator};
use super::notifications::{NotificationBell, Toasts};
use super::pulse::AwayToggle;
use super::status_pages::{AccessDenied, ErrorNotice};
use crate::api::auth::{Logout, current_user};
use crate::domain::policy::permits;
use crate::domain::{Area, Capability, SessionUser};
use leptos::prelude::*;
use leptos_router::components::{A, Redirect};

/// What only staff who work tickets have in the frame: the notification
/// bell and the Away toggle in the top bar, and the toasts. Only the pages
/// staff open name them (`Protected`'s `staff`), so the portal's bundle
/// does not carry their code; a customer on a shared page (profile,
/// notifications) never sees them either.
#[derive(Clone, Copy)]
pub struct StaffParts {
    top_bar: fn() -> AnyView,
    page_end: fn() -> AnyView,
}

pub const STAFF_PARTS: StaffParts = StaffParts {
    top_bar: || view! { <NotificationBell /> <AwayToggle /> }.into_any(),
    page_end: || view! { <Toasts /> }.into_any(),
};

/// The signed-in user, for pages inside `Protected`.
#[derive(Clone, Debug)]
pub struct CurrentUser(pub SessionUser);

/// Renders `children` for a signed-in user allowed into `area` (any signed-in
/// user when `area` is None); sends visitors to /login. The server enforces
/// the same rules on every call; this only decides what to show.
///
/// The child is a `Suspend`, not a closure returning one: on the server,
/// `Suspense` walks its children (`dry_resolve`) before and after their
/// resources load, and a closure would be re-run each time, building the
/// page — and starting its resources — three times per request. A bare
/// `Suspend` keeps its resolved view. Nothing refetches `user`, so the
/// closure's reactivity was never needed.
///
/// `staff`: the staff's parts of the frame, on pages staff may open.
#[component]
pub fn Protected(
    area: Option<Area>,
    #[prop(optional)] staff: Option<StaffParts>,
    children: ChildrenFn,
) -> impl IntoView {
    let user = Resource::new_blocking(|| (), |_| current_user());
    view! {
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {Suspend::new(async move {
                match user.await {
                    Ok(Some(user)) => {
                        let allowed = area.is_none_or(|a| user.role.may_enter(a));
                        provide_context(CurrentUser(user.clone()));
                        let page = if allowed {
                            children().into_any()
                        } else {
                            view! { <AccessDenied /> }.into_any()
                        };
                        view! { <AppFrame user staff>{page}</AppFrame> }.into_any()
                    }
                    Ok(None) => view! { <Redirect path="/login" /> }.into_any(),
                    Err(error) => view! { <main class="content"><ErrorNotice error /></main> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AppFrame(user: SessionUser, staff: Option<StaffParts>, children: Children) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    // One WebSocket per tab, opened once the page is interactive, and
    // closed while signing out (reopened if that fails).
    Effect::new(
        move |_| match (logout.pending().get(), logout.value().get()) {
            (true, _) => live::stop(),
            (false, Some(Ok(()))) => {}
            (false, _) => live::start(),
        },
    );
    let nav_links = user
        .role
        .areas()
        .into_iter()
        .map(|area| view! { <li><A href=area.path()>{area.nav_label()}</A></li> })
        .collect_view();
    // Staff who work tickets have a notification centre.
    let staff = staff.filter(|_| permits(user.role, Capability::ReadAllTickets));
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="topbar">
            <a class="brand" href=user.role.home_path()>"Fieldesk"</a>
            <nav aria-label="Main" class="mainnav">
                <ul>
                    {nav_links}
                    <li><A href="/profile">"Profile"</A></li>
                </ul>
            </nav>
            <div class="whoami">
                <LiveIndicator />
                {staff.map(|parts| (parts.top_bar)())}
                <span class="whoami-name">{user.name.clone()}</span>
                <span class="badge">{user.role.label()}</span>
                <span class="whoami-org">{user.organization_name.clone()}</span>
                <ActionForm action=logout>
                    <button type="submit" class="btn btn-quiet">"Sign out"</button>
                </ActionForm>
            </div>
        </header>
        <main id="main" class="content">
            <ErrorBoundary fallback=|errors| {
                view! {
                    <div role="alert" class="alert alert-error">
                        <strong>"Something went wrong on this page. "</strong>
                        {move || errors.get().into_iter().map(|(_, e)| e.to_string()).collect::<Vec<_>>().join("; ")}
                    </div>
                }
            }>{children()}</ErrorBoundary>
        </main>
        {staff.map(|parts| (parts.page_end)())}
    }
}

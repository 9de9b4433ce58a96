//! The HTML shell, the root component and the route table.

use crate::domain::Area;
use crate::ui::{
    access, area_pages, audit, auth_pages,
    frame::{Protected, STAFF_PARTS},
    notifications, sla_admin, status_pages, tickets,
};
use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{Lazy, LazyRoute, SsrMode, path};

/// The document around the app. On the server it also fixes this page's
/// Content-Security-Policy, whose nonce lets only our own inline
/// hydration script run.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_page_csp();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[cfg(feature = "ssr")]
fn set_page_csp() {
    use axum::http::HeaderValue;
    use axum::http::header::CONTENT_SECURITY_POLICY;
    leptos::nonce::provide_nonce();
    let (Some(nonce), Some(res)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
         font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        res.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Pages that depend on who is signed in render fully on the server
    // (SsrMode::Async) so a redirect to /login is a real HTTP redirect.
    view! {
        <Stylesheet id="leptos" href="/pkg/fieldesk.css" />
        <Title formatter=|page: String| {
            if page.is_empty() { "Fieldesk".to_owned() } else { format!("{page} · Fieldesk") }
        } />
        <Router>
            <Routes fallback=status_pages::NotFound>
                <Route path=path!("/") view=auth_pages::RootRedirect ssr=SsrMode::Async />
                <Route path=path!("/login") view=auth_pages::LoginPage ssr=SsrMode::Async />
                <Route path=path!("/register") view={Lazy::<RegisterRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/access") view={Lazy::<RequestLinkRoute>::new()} />
                <Route path=path!("/access/:token") view={Lazy::<AccessRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/profile") view={Lazy::<ProfileRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/portal") view={Lazy::<PortalHomeRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/portal/new") view={Lazy::<PortalNewTicketRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/portal/tickets/:id") view={Lazy::<PortalTicketRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/desk/new") view={Lazy::<DeskNewTicketRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/desk/tickets/:id") view={Lazy::<DeskTicketRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/desk") view={Lazy::<DeskHomeRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/manager") view={Lazy::<ManagerHomeRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/exec") view={Lazy::<ExecutiveHomeRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/admin") view={Lazy::<AdminHomeRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/admin/audit") view={Lazy::<AuditLogRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/admin/sla") view={Lazy::<AdminSlaRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/manager/sla") view={Lazy::<ManagerSlaRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/admin/mail-templates") view={Lazy::<MailTemplatesRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/notifications") view={Lazy::<NotificationsRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/field") view={Lazy::<FieldHomeRoute>::new()} ssr=SsrMode::Async />
            </Routes>
        </Router>
    }
}

/// A page whose code the browser downloads only when it is visited: its
/// view is a `#[lazy]` function (with `__preload_…`, the function the
/// macro generates to load it) in the split module named first, and
/// scripts/build.sh cuts the WASM there (wasm-split), so /login and the
/// portal do not carry the desk, admin or dashboards. wasm-split gives
/// every set of modules that share code a chunk of its own, each
/// compressed alone, so every module costs the others files: the
/// administrators' and managers' pages (no size budget, few visits, on
/// desktops) share one module, `back_office`, loaded once for all of them;
/// the portal and the desk, which have budgets, keep one module per page,
/// and so do the pages every role, the executives or the field technicians
/// open. The routes
/// carry no data of their own (`data`): each page starts its resources
/// itself.
macro_rules! lazy_page {
    ($module:ident: $route:ident, $view_fn:ident, $preload:ident => $view:expr) => {
        struct $route;

        #[leptos::lazy($module)]
        fn $view_fn(_route: $route) -> AnyView {
            $view.into_any()
        }

        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            // The router awaits this before it hydrates the page: with
            // the module still loading inside `view`, hydration panics.
            async fn preload() {
                #[cfg(target_arch = "wasm32")]
                $preload().await;
            }

            async fn view(route: Self) -> AnyView {
                $view_fn(route).await
            }
        }
    };
}

lazy_page!(register: RegisterRoute, register_view, __preload_register_view => view! { <auth_pages::RegisterPage /> });
lazy_page!(request_link: RequestLinkRoute, request_link_view, __preload_request_link_view => view! { <access::RequestLinkPage /> });
lazy_page!(access: AccessRoute, access_view, __preload_access_view => view! { <access::AccessPage /> });
lazy_page!(profile: ProfileRoute, profile_view, __preload_profile_view => view! { <Protected area=None staff=STAFF_PARTS><auth_pages::ProfilePage /></Protected> });
lazy_page!(portal_home: PortalHomeRoute, portal_home_view, __preload_portal_home_view => view! { <Protected area=Some(Area::Portal)><area_pages::PortalHome /></Protected> });
lazy_page!(portal_new_ticket: PortalNewTicketRoute, portal_new_ticket_view, __preload_portal_new_ticket_view => view! { <Protected area=Some(Area::Portal)><tickets::NewTicketPage /></Protected> });
lazy_page!(portal_ticket: PortalTicketRoute, portal_ticket_view, __preload_portal_ticket_view => view! { <Protected area=Some(Area::Portal)><tickets::PortalTicketPage /></Protected> });
lazy_page!(desk_home: DeskHomeRoute, desk_home_view, __preload_desk_home_view => view! { <Protected area=Some(Area::Desk) staff=STAFF_PARTS><area_pages::DeskHome /></Protected> });
lazy_page!(desk_new_ticket: DeskNewTicketRoute, desk_new_ticket_view, __preload_desk_new_ticket_view => view! { <Protected area=Some(Area::Desk) staff=STAFF_PARTS><tickets::NewTicketPage /></Protected> });
lazy_page!(desk_ticket: DeskTicketRoute, desk_ticket_view, __preload_desk_ticket_view => view! { <Protected area=Some(Area::Desk) staff=STAFF_PARTS><tickets::DeskTicketPage /></Protected> });
lazy_page!(back_office: ManagerHomeRoute, manager_home_view, __preload_manager_home_view => view! { <Protected area=Some(Area::Manager) staff=STAFF_PARTS><area_pages::ManagerHome /></Protected> });
lazy_page!(executive: ExecutiveHomeRoute, executive_home_view, __preload_executive_home_view => view! { <Protected area=Some(Area::Executive) staff=STAFF_PARTS><area_pages::ExecutiveHome /></Protected> });
lazy_page!(back_office: AdminHomeRoute, admin_home_view, __preload_admin_home_view => view! { <Protected area=Some(Area::Admin) staff=STAFF_PARTS><area_pages::AdminHome /></Protected> });
lazy_page!(back_office: AuditLogRoute, audit_log_view, __preload_audit_log_view => view! { <Protected area=Some(Area::Admin) staff=STAFF_PARTS><audit::AuditLogPage /></Protected> });
lazy_page!(back_office: AdminSlaRoute, admin_sla_view, __preload_admin_sla_view => view! { <Protected area=Some(Area::Admin) staff=STAFF_PARTS><sla_admin::SlaAdminPage /></Protected> });
lazy_page!(back_office: ManagerSlaRoute, manager_sla_view, __preload_manager_sla_view => view! { <Protected area=Some(Area::Manager) staff=STAFF_PARTS><sla_admin::SlaAdminPage /></Protected> });
lazy_page!(back_office: MailTemplatesRoute, mail_templates_view, __preload_mail_templates_view => view! { <Protected area=Some(Area::Admin) staff=STAFF_PARTS><notifications::MailTemplatesPage /></Protected> });
lazy_page!(notifications: NotificationsRoute, notifications_view, __preload_notifications_view => view! { <Protected area=None staff=STAFF_PARTS><notifications::NotificationsPage /></Protected> });
lazy_page!(field: FieldHomeRoute, field_home_view, __preload_field_home_view => view! { <Protected area=Some(Area::Field) staff=STAFF_PARTS><area_pages::FieldHome /></Protected> });

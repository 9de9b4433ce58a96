//! URL-based access pages: `/access/{token}` shows the one ticket a magic
//! link opens, as its requester sees it in the portal (public messages and
//! files only), with reply, reopen and rating; `/access` is "email me a
//! link to my requests". Neither needs an account.

use super::forms::{Field, FormAlert, last_error, reset_on_success};
use super::tickets::{Conversation, RatingCard, RatingFields, StatusBadge, when};
use crate::api::access::{
    RateViaLink, ReopenViaLink, ReplyViaLink, RequestMagicLink, load_linked_ticket,
    load_older_linked_comments,
};
use crate::domain::access::{INVALID_LINK, LinkedTicket, access_download_path};
use crate::domain::attachment::human_size;
use crate::domain::ticket::{Satisfaction, TicketStatus};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// `/access/{token}`.
#[component]
pub fn AccessPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    keep_out_of_caches();
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let reply = ServerAction::<ReplyViaLink>::new();
    let reopen = ServerAction::<ReopenViaLink>::new();
    let rate = ServerAction::<RateViaLink>::new();
    let linked = Resource::new(
        move || {
            (
                token(),
                reply.version().get(),
                reopen.version().get(),
                rate.version().get(),
            )
        },
        |(token, ..)| load_linked_ticket(token),
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading your request…"</p> }>
            {move || Suspend::new(async move {
                match linked.await {
                    Ok(linked) => view! {
                        <LinkedTicketView linked token=token() reply reopen rate />
                    }
                    .into_any(),
                    Err(_) => {
                        #[cfg(feature = "ssr")]
                        super::status_pages::set_status(404);
                        view! { <InvalidLink /> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// The link is the key to the ticket: no shared cache may keep the page.
#[cfg(feature = "ssr")]
fn keep_out_of_caches() {
    use axum::http::HeaderValue;
    use axum::http::header::CACHE_CONTROL;
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.insert_header(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

#[component]
fn LinkedTicketView(
    linked: LinkedTicket,
    token: String,
    reply: ServerAction<ReplyViaLink>,
    reopen: ServerAction<ReopenViaLink>,
    rate: ServerAction<RateViaLink>,
) -> impl IntoView {
    let t = linked.ticket;
    let files = linked
        .attachments
        .into_iter()
        .map(|f| {
            view! {
                <li>
                    <a href=access_download_path(&token, f.id)>{f.filename}</a>
                    <span class="muted">{format!(" {}", human_size(f.size))}</span>
                </li>
            }
        })
        .collect_view();
    view! {
        <Title text=format!("{} {}", t.display_number, t.subject) />
        <main id="main" class="content access-page">
            <header class="page-header">
                <p class="muted">{format!("{} · {}", linked.organization_name, t.display_number)}</p>
                <h1>{t.subject.clone()}</h1>
                <p class="ticket-facts">
                    <StatusBadge status=t.status />
                    <span>{format!("Opened {}", when(t.created_at))}</span>
                </p>
            </header>
            <section aria-label="Messages">
                <Conversation
                    description_html=linked.description_html
                    requester=linked.requester_name
                    created=when(t.created_at)
                    comments=linked.comments
                    older=linked.older_comments
                    load_older={
                        let token = token.clone();
                        move |before| load_older_linked_comments(token.clone(), before)
                    }
                />
                <LinkReplyForm action=reply token=token.clone() closed=t.status == TicketStatus::Closed />
                <section class="card" aria-labelledby="files-title">
                    <h2 id="files-title">"Files"</h2>
                    <ul class="file-list">{files}</ul>
                </section>
                {(t.status == TicketStatus::Resolved).then(|| view! {
                    <LinkReopenForm action=reopen token=token.clone() />
                })}
                {(!t.status.is_open()).then(|| view! {
                    <LinkRatingForm action=rate token=token.clone() satisfaction=t.satisfaction.clone() />
                })}
            </section>
        </main>
    }
}

#[component]
fn LinkReplyForm(action: ServerAction<ReplyViaLink>, token: String, closed: bool) -> impl IntoView {
    if closed {
        return view! { <p class="muted">"This request is closed. Contact us again for anything further."</p> }.into_any();
    }
    let error = last_error(action.value());
    let form = reset_on_success(action.value());
    view! {
        <ActionForm action node_ref=form>
            <div class="stack reply-form">
                <FormAlert error />
                <input type="hidden" name="token" value=token />
                <div class="field">
                    <label for="body">"Your reply"</label>
                    <textarea id="body" name="body" rows="5" required></textarea>
                </div>
                <button type="submit" class="btn btn-primary" disabled=move || action.pending().get()>"Send"</button>
            </div>
        </ActionForm>
    }
    .into_any()
}

#[component]
fn LinkReopenForm(action: ServerAction<ReopenViaLink>, token: String) -> impl IntoView {
    let error = last_error(action.value());
    view! {
        <section class="card reopen" aria-labelledby="reopen-title">
            <h2 id="reopen-title">"Not solved after all?"</h2>
            <ActionForm action>
                <div class="stack">
                    <FormAlert error />
                    <input type="hidden" name="token" value=token />
                    <button type="submit" class="btn btn-quiet" disabled=move || action.pending().get()>"Reopen"</button>
                </div>
            </ActionForm>
        </section>
    }
}

#[component]
fn LinkRatingForm(
    action: ServerAction<RateViaLink>,
    token: String,
    satisfaction: Option<Satisfaction>,
) -> impl IntoView {
    let error = last_error(action.value());
    view! {
        <RatingCard satisfaction=satisfaction.clone()>
            <ActionForm action>
                <div class="stack">
                    <FormAlert error />
                    <input type="hidden" name="token" value=token />
                    <RatingFields satisfaction />
                </div>
            </ActionForm>
        </RatingCard>
    }
}

/// Whatever was wrong with the link, the same words and a way to a new one.
#[component]
fn InvalidLink() -> impl IntoView {
    view! {
        <Title text="Link not valid" />
        <main class="auth-page">
            <section class="card auth-card" aria-labelledby="link-title">
                <p class="brand brand-lg">"Fieldesk"</p>
                <h1 id="link-title">{INVALID_LINK}</h1>
                <RequestLinkForm />
            </section>
        </main>
    }
}

/// `/access`: "email me a link to my requests".
#[component]
pub fn RequestLinkPage() -> impl IntoView {
    view! {
        <Title text="Email me a link to my requests" />
        <main class="auth-page">
            <section class="card auth-card" aria-labelledby="link-title">
                <p class="brand brand-lg">"Fieldesk"</p>
                <h1 id="link-title">"Email me a link to my requests"</h1>
                <RequestLinkForm />
                <p class="auth-switch">"Have an account? " <a href="/login">"Sign in"</a></p>
            </section>
        </main>
    }
}

#[component]
fn RequestLinkForm() -> impl IntoView {
    let request = ServerAction::<RequestMagicLink>::new();
    let error = last_error(request.value());
    let sent = move || matches!(request.value().get(), Some(Ok(())));
    view! {
        <ActionForm action=request>
            <div class="stack">
                <FormAlert error />
                <Show when=sent>
                    <p role="status" class="alert alert-success">
                        "If this address has requests with that organization, a link is on its way. Check your inbox."
                    </p>
                </Show>
                <p class="muted">"We mail you a link to each of your open requests; no account needed."</p>
                <Field
                    name="organization"
                    label="Organization"
                    autocomplete="off"
                    hint="The name of your provider's portal, e.g. acme"
                    error
                />
                <Field name="email" label="Email" kind="email" autocomplete="email" error />
                <button type="submit" class="btn btn-primary" disabled=move || request.pending().get()>
                    "Email me a link"
                </button>
            </div>
        </ActionForm>
    }
}

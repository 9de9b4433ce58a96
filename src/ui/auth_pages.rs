//! The root redirect, sign-in, customer sign-up and the profile page.

use super::forms::{Field, FormAlert, last_error, reset_on_success};
use super::frame::CurrentUser;
use crate::api::auth::{ChangePassword, Login, Register, current_user};
use crate::domain::user::MIN_PASSWORD_LEN;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

/// `/`: the signed-in user's home, or the sign-in page.
#[component]
pub fn RootRedirect() -> impl IntoView {
    let user = Resource::new_blocking(|| (), |_| current_user());
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let target = match user.await {
                    Ok(Some(user)) => user.role.home_path(),
                    _ => "/login",
                };
                view! { <Redirect path=target /> }
            })}
        </Suspense>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let user = Resource::new_blocking(|| (), |_| current_user());
    view! {
        <Title text="Sign in" />
        <Suspense>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(user)) => view! { <Redirect path=user.role.home_path() /> }.into_any(),
                    _ => view! { <LoginForm /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Works without JavaScript: a plain form post to the server function, which
/// answers with a redirect (to the home page, or back here with the error).
#[component]
fn LoginForm() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let error = last_error(login.value());
    view! {
        <main class="auth-page">
            <section class="card auth-card" aria-labelledby="signin-title">
                <p class="brand brand-lg">"Fieldesk"</p>
                <h1 id="signin-title">"Sign in"</h1>
                <ActionForm action=login>
                    <div class="stack">
                        <FormAlert error />
                        <Field name="email" label="Email" kind="email" autocomplete="username" autofocus=true error />
                        <Field name="password" label="Password" kind="password" autocomplete="current-password" error />
                        <button type="submit" class="btn btn-primary" disabled=move || login.pending().get()>
                            "Sign in"
                        </button>
                    </div>
                </ActionForm>
                <p class="auth-switch">"New customer? " <a href="/register">"Create an account"</a></p>
                <p class="auth-switch">"No account? " <a href="/access">"Email me a link to my requests"</a></p>
            </section>
        </main>
    }
}

/// `/register`: customer self sign-up on an organization's portal.
#[component]
pub fn RegisterPage() -> impl IntoView {
    let user = Resource::new_blocking(|| (), |_| current_user());
    view! {
        <Title text="Create an account" />
        <Suspense>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(user)) => view! { <Redirect path=user.role.home_path() /> }.into_any(),
                    _ => view! { <RegisterForm /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Like the sign-in form, works without JavaScript; a new account lands on
/// the portal, signed in.
#[component]
fn RegisterForm() -> impl IntoView {
    let register = ServerAction::<Register>::new();
    let error = last_error(register.value());
    let password_hint = format!("At least {MIN_PASSWORD_LEN} characters");
    view! {
        <main class="auth-page">
            <section class="card auth-card" aria-labelledby="signup-title">
                <p class="brand brand-lg">"Fieldesk"</p>
                <h1 id="signup-title">"Create an account"</h1>
                <ActionForm action=register>
                    <div class="stack">
                        <FormAlert error />
                        <Field
                            name="organization"
                            label="Organization"
                            autocomplete="off"
                            hint="The name of your provider's portal, e.g. acme"
                            autofocus=true
                            error
                        />
                        <Field name="name" label="Name" autocomplete="name" error />
                        <Field name="email" label="Email" kind="email" autocomplete="email" error />
                        <Field name="password" label="Password" kind="password" autocomplete="new-password" hint=password_hint error />
                        <button type="submit" class="btn btn-primary" disabled=move || register.pending().get()>
                            "Create account"
                        </button>
                    </div>
                </ActionForm>
                <p class="auth-switch">"Already have an account? " <a href="/login">"Sign in"</a></p>
            </section>
        </main>
    }
}

#[component]
pub fn ProfilePage() -> impl IntoView {
    let CurrentUser(user) = expect_context::<CurrentUser>();
    let change = ServerAction::<ChangePassword>::new();
    let error = last_error(change.value());
    let changed = move || matches!(change.value().get(), Some(Ok(())));
    let form = reset_on_success(change.value());
    let hint = format!("At least {MIN_PASSWORD_LEN} characters");
    view! {
        <Title text="Your profile" />
        <h1>"Your profile"</h1>
        <div class="grid-2">
            <section class="card" aria-labelledby="account-title">
                <h2 id="account-title">"Account"</h2>
                <dl class="facts">
                    <dt>"Name"</dt><dd>{user.name.clone()}</dd>
                    <dt>"Email"</dt><dd>{user.email.clone()}</dd>
                    <dt>"Role"</dt><dd>{user.role.label()}</dd>
                    <dt>"Organization"</dt><dd>{user.organization_name.clone()}</dd>
                </dl>
            </section>
            <section class="card" aria-labelledby="password-title">
                <h2 id="password-title">"Change password"</h2>
                <ActionForm action=change node_ref=form>
                    <div class="stack">
                        <FormAlert error />
                        <Show when=changed>
                            <p role="status" class="alert alert-success">
                                "Password changed. Your other sessions have been signed out."
                            </p>
                        </Show>
                        <Field name="current_password" label="Current password" kind="password" autocomplete="current-password" error />
                        <Field name="new_password" label="New password" kind="password" autocomplete="new-password" hint error />
                        <Field name="confirm_password" label="Confirm new password" kind="password" autocomplete="new-password" error />
                        <button type="submit" class="btn btn-primary" disabled=move || change.pending().get()>
                            "Change password"
                        </button>
                    </div>
                </ActionForm>
            </section>
        </div>
    }
}

//! The user service: customer sign-up and the administrator's user
//! management. REST handlers are thin shells over these functions; the SQL
//! lives in `db::users`.

use crate::domain::user::{check_name, check_new_email, check_password_policy};
use crate::domain::{ApiError, Capability, ErrorKind, FieldErrors, Role, SessionUser, User};
use crate::engine::ticket_change::FieldChange;
use crate::server::audit::{self, Origin, Owner};
use crate::server::auth::Principal;
use crate::server::auth::password::hash_password_blocking;
use crate::server::auth::refresh::Presenter;
use crate::server::auth::service::{self, IssuedSession};
use crate::server::db::users::{self, NewUser, UserChanges};
use crate::server::db::{Db, Tx, orgs};
use crate::server::error::{AppError, AppResult, is_unique_violation};
use crate::server::state::AppState;
use uuid::Uuid;

/// Said for any email that already has an account, in whichever
/// organization: the answer must not reveal which tenant holds it.
pub const EMAIL_TAKEN: &str = "An account with this email address already exists";

/// A customer signing up on an organization's portal.
pub struct Registration {
    /// The organization's slug.
    pub organization: String,
    pub email: String,
    pub name: String,
    pub password: String,
}

/// A user an administrator creates in their own organization.
pub struct NewAccount {
    pub email: String,
    pub name: String,
    /// Wire name (`agent`, `admin`…); an unknown one is a field error.
    pub role: String,
    pub password: String,
}

/// A partial change by an administrator; `None` leaves a field alone.
#[derive(Default)]
pub struct UserPatch {
    pub name: Option<String>,
    pub role: Option<String>,
    pub active: Option<bool>,
    pub password: Option<String>,
}

fn email_taken() -> AppError {
    let mut err = ApiError::new(ErrorKind::Conflict, EMAIL_TAKEN);
    err.fields.insert("email".into(), EMAIL_TAKEN.into());
    err.into()
}

/// A 422 whose headline is the one problem, also reported on `field`.
fn refused(field: &str, message: &str) -> AppError {
    let mut err = ApiError::new(ErrorKind::Validation, message);
    err.fields.insert(field.into(), message.into());
    err.into()
}

fn parse_role(errs: &mut FieldErrors, raw: &str) -> Option<Role> {
    let raw = raw.trim();
    if raw.is_empty() {
        errs.add("role", "Choose a role");
        return None;
    }
    raw.parse::<Role>()
        .map_err(|_| errs.add("role", format!("Unknown role `{raw}`")))
        .ok()
}

/// Stores a new active user in `tx`; 409 when the email is taken anywhere.
async fn insert_user(db: &Db, tx: &mut Tx, new: &NewUser<'_>) -> AppResult<User> {
    // The unique index decides; the lookup first only spares a password hash.
    if users::find_by_email(db, new.email).await?.is_some() {
        return Err(email_taken());
    }
    users::insert(tx, new).await.map_err(|e| {
        if is_unique_violation(&e) {
            email_taken()
        } else {
            e.into()
        }
    })
}

/// Said when a form names someone by an email another organization's
/// account holds.
pub const EMAIL_ELSEWHERE: &str = "This email belongs to an account elsewhere and cannot be used";

/// The person of `org` with this (valid, normalized) email, or a new
/// customer contact for an unknown one — no password: they follow their
/// tickets by magic link. An account of another organization is a 422 on
/// `field` (said the same way as at import).
pub async fn contact_for_email(
    state: &AppState,
    org: Uuid,
    email: &str,
    field: &str,
) -> AppResult<Uuid> {
    match users::find_by_email(&state.db, email).await? {
        Some(user) if user.organization_id == org => Ok(user.id),
        Some(_) => Err(refused(field, EMAIL_ELSEWHERE)),
        None => {
            let name = email.split('@').next().unwrap_or_default();
            let contact = NewUser {
                organization_id: org,
                email,
                name,
                role: Role::Customer,
                password_hash: users::NO_PASSWORD,
            };
            let mut tx = state.db.begin().await?;
            let id = insert_user(&state.db, &mut tx, &contact).await?.id;
            tx.commit().await?;
            Ok(id)
        }
    }
}

/// Customer self sign-up: creates a `customer` of the organization named by
/// its slug and signs them in, exactly as a login would (the session handed
/// to `client`). Shares the per-IP budget of sign-in, spent once the form
/// itself is valid.
pub async fn register(
    state: &AppState,
    form: Registration,
    origin: &Origin,
    client: Presenter,
) -> AppResult<IssuedSession> {
    let ip = origin.ip;
    let mut errs = FieldErrors::new();
    let slug = form.organization.trim().to_lowercase();
    errs.check(
        !slug.is_empty(),
        "organization",
        "Name the organization you are signing up with",
    );
    let email = check_new_email(&mut errs, "email", &form.email);
    let name = check_name(&mut errs, "name", &form.name);
    check_password_policy(&mut errs, "password", &form.password);
    errs.into_result()?;

    service::spend_ip_attempt(state, ip)?;
    // Form input, not a resource path: an unknown organization is a field error.
    let Some(org) = orgs::find_by_slug(&state.db, &slug).await? else {
        let mut errs = FieldErrors::new();
        errs.add("organization", "There is no organization with this name");
        return Err(errs.into_result().unwrap_err().into());
    };
    let hash = hash_password_blocking(form.password).await?;
    let mut tx = state.db.begin().await?;
    let user = insert_user(
        &state.db,
        &mut tx,
        &NewUser {
            organization_id: org.id,
            email: &email,
            name: &name,
            role: Role::Customer,
            password_hash: &hash,
        },
    )
    .await?;
    // Signed up by themself.
    let created = created_lines(&user);
    audit::record(
        &mut tx,
        Some(org.id),
        Some(user.id),
        origin,
        Owner::user(user.id),
        &created,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user = %user.id, org = %org.id, "customer signed up");
    let signed_in = audit::line("sign_in", None, Some(user.email.clone()));
    service::start_session(
        state,
        &SessionUser {
            id: user.id,
            email: user.email,
            name: user.name,
            role: user.role,
            organization_id: org.id,
            organization_name: org.name,
        },
        client,
        origin,
        Some(signed_in),
    )
    .await
}

/// How many users a page of the list holds at most.
pub const MAX_USER_PAGE: u32 = 500;

/// A page of the organization's people (by email), optionally of one role;
/// for those who read the desk setup.
pub async fn list(
    state: &AppState,
    caller: &Principal,
    role: Option<Role>,
    after_email: Option<&str>,
    limit: u32,
) -> AppResult<(Vec<User>, Option<String>)> {
    caller.require(Capability::ReadDeskSetup)?;
    let limit = limit.clamp(1, MAX_USER_PAGE);
    // One extra row tells whether another page exists.
    let mut items =
        users::list_in_org(&state.db, caller.org(), role, after_email, limit + 1).await?;
    let next = (items.len() > limit as usize).then(|| {
        items.truncate(limit as usize);
        items.last().map(|u| u.email.clone())
    });
    Ok((items, next.flatten()))
}

/// One person of the caller's organization; another organization's is
/// "not found".
pub async fn find(state: &AppState, caller: &Principal, id: Uuid) -> AppResult<User> {
    caller.require(Capability::ReadDeskSetup)?;
    users::find_in_org(&state.db, caller.org(), id)
        .await?
        .ok_or_else(|| ApiError::not_found().into())
}

/// The audit lines of a new account.
fn created_lines(user: &User) -> Vec<FieldChange> {
    vec![
        audit::line("user", None, Some(user.email.clone())),
        audit::line("name", None, Some(user.name.clone())),
        audit::line("role", None, Some(user.role.as_str().to_owned())),
    ]
}

/// The audit lines of a change from `before` to `after` (a new password is
/// said, never shown).
fn changed_lines(before: &User, after: &User, password_reset: bool) -> Vec<FieldChange> {
    let mut lines = audit::changes([
        ("name", Some(before.name.clone()), Some(after.name.clone())),
        (
            "role",
            Some(before.role.as_str().to_owned()),
            Some(after.role.as_str().to_owned()),
        ),
        (
            "active",
            Some(before.active.to_string()),
            Some(after.active.to_string()),
        ),
    ]);
    if password_reset {
        lines.push(audit::line("password", None, Some("reset".into())));
    }
    lines
}

/// An administrator creates a user of any role in their own organization.
pub async fn create(
    state: &AppState,
    caller: &Principal,
    form: NewAccount,
    origin: &Origin,
) -> AppResult<User> {
    caller.require(Capability::ManageUsers)?;
    let mut errs = FieldErrors::new();
    let email = check_new_email(&mut errs, "email", &form.email);
    let name = check_name(&mut errs, "name", &form.name);
    let role = parse_role(&mut errs, &form.role);
    check_password_policy(&mut errs, "password", &form.password);
    errs.into_result()?;
    let role = role.expect("validated above");

    let hash = hash_password_blocking(form.password).await?;
    let mut tx = state.db.begin().await?;
    let user = insert_user(
        &state.db,
        &mut tx,
        &NewUser {
            organization_id: caller.org(),
            email: &email,
            name: &name,
            role,
            password_hash: &hash,
        },
    )
    .await?;
    let (org, by) = (Some(caller.org()), caller.user_id());
    audit::record(
        &mut tx,
        org,
        by,
        origin,
        Owner::user(user.id),
        &created_lines(&user),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user = %user.id, by = ?by, %role, "user created");
    Ok(user)
}

/// An administrator changes a user of their own organization (another
/// organization's user is "not found").
///
/// Deactivating a user or setting their password ends all their sessions at
/// once (their refresh tokens are revoked in the same transaction). A role
/// change or a deactivation also reaches access tokens already handed out:
/// every request reads the person's current standing (`Principal`).
///
/// An administrator may neither deactivate themself nor give up their own
/// admin role, so every organization keeps at least one active admin.
pub async fn update(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
    patch: UserPatch,
    origin: &Origin,
) -> AppResult<User> {
    caller.require(Capability::ManageUsers)?;
    let current = users::find_in_org(&state.db, caller.org(), id)
        .await?
        .ok_or_else(ApiError::not_found)?;

    let mut errs = FieldErrors::new();
    let name = patch
        .name
        .as_deref()
        .map(|n| check_name(&mut errs, "name", n));
    let role = patch.role.as_deref().and_then(|r| parse_role(&mut errs, r));
    if let Some(password) = &patch.password {
        check_password_policy(&mut errs, "password", password);
    }
    errs.into_result()?;

    if caller.user_id() == Some(current.id) {
        if patch.active == Some(false) {
            return Err(refused(
                "active",
                "You cannot deactivate your own account; another administrator has to",
            ));
        }
        if role.is_some_and(|r| r != Role::Admin) {
            return Err(refused(
                "role",
                "You cannot remove your own administrator role; another administrator has to",
            ));
        }
    }

    let hash = match patch.password {
        Some(password) => Some(hash_password_blocking(password).await?),
        None => None,
    };
    let changes = UserChanges {
        name: name.as_deref(),
        role,
        active: patch.active,
        password_hash: hash.as_deref(),
    };
    if changes.name.is_none()
        && changes.role.is_none()
        && changes.active.is_none()
        && changes.password_hash.is_none()
    {
        return Ok(current);
    }
    let mut tx = state.db.begin().await?;
    let user = users::update_in_org(&mut tx, caller.org(), id, &changes)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let lines = changed_lines(&current, &user, changes.password_hash.is_some());
    let (org, by) = (Some(caller.org()), caller.user_id());
    audit::record(&mut tx, org, by, origin, Owner::user(id), &lines).await?;
    tx.commit().await?;
    // Their next request reads the new role or active flag.
    state.standings.forget(id);
    tracing::info!(
        user = %user.id,
        by = ?caller.user_id(),
        role = ?changes.role,
        active = ?changes.active,
        password_reset = changes.password_hash.is_some(),
        "user changed"
    );
    Ok(user)
}

//! The new-ticket form: "New ticket" for staff (requester, channel),
//! "New request" for customers; category and custom fields from the desk
//! setup, files attached in the same upload.

use super::attachments::FileInput;
use crate::api::desk::load_desk_options;
use crate::api::tickets::create_ticket;
use crate::domain::Capability;
use crate::domain::policy::permits;
use crate::domain::ticket::{Channel, CustomValues, Priority};
use crate::ui::desk::CustomFieldInputs;
use crate::ui::forms::{Field, FormAlert, UploadForm, last_error, upload_action};
use crate::ui::frame::CurrentUser;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NewTicketPage() -> impl IntoView {
    let CurrentUser(user) = expect_context::<CurrentUser>();
    let create = upload_action(create_ticket);
    let error = last_error(create.value());
    let options = Resource::new(|| (), |()| load_desk_options());
    // Staff fill in the fields only they may set (requester, team, tags…).
    let staff = permits(user.role, Capability::ChangeTicketFields);
    let heading = if staff { "New ticket" } else { "New request" };
    // How the request reached the agent who types it in.
    let channels = [
        Channel::Phone,
        Channel::Email,
        Channel::Web,
        Channel::Whatsapp,
        Channel::Sms,
    ]
    .iter()
    .map(|c| view! { <option value=c.as_str()>{c.label()}</option> })
    .collect_view();
    let priorities = Priority::ALL
        .iter()
        .map(|p| view! { <option value=p.as_str() selected=*p == Priority::Medium>{p.label()}</option> })
        .collect_view();
    view! {
        <Title text=heading />
        <h1>{heading}</h1>
        <section class="card narrow">
            <UploadForm action=create endpoint="/api/create_ticket">
                <div class="stack">
                    <FormAlert error />
                    {staff.then(|| view! {
                        <Field
                            name="requester_email"
                            label="Requester email"
                            kind="email"
                            autocomplete="off"
                            optional=true
                            hint="Who the ticket is for. Someone new becomes a contact and is mailed a link to follow it. Empty: yourself."
                            error
                        />
                        <div class="field">
                            <label for="channel">"Channel"</label>
                            <select id="channel" name="channel">{channels}</select>
                        </div>
                    })}
                    <Field name="subject" label="Subject" error />
                    <div class="field">
                        <label for="description">"Description"</label>
                        <textarea id="description" name="description" rows="8" required></textarea>
                        <p class="field-hint">"What happened, what you expected, and any error messages."</p>
                    </div>
                    <div class="field">
                        <label for="priority">"Priority"</label>
                        <select id="priority" name="priority">{priorities}</select>
                    </div>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let options = options.await.unwrap_or_default();
                            let categories = options
                                .categories
                                .iter()
                                .map(|c| view! { <option value=c.id.to_string()>{c.name.clone()}</option> })
                                .collect_view();
                            view! {
                                {(!options.categories.is_empty()).then(|| view! {
                                    <div class="field">
                                        <label for="category_id">"Category"</label>
                                        <select id="category_id" name="category_id">
                                            <option value="">"—"</option>
                                            {categories}
                                        </select>
                                    </div>
                                })}
                                <CustomFieldInputs fields=options.fields values=CustomValues::new() />
                            }
                        })}
                    </Suspense>
                    <FileInput label="Attachments" error />
                    <button type="submit" class="btn btn-primary" disabled=move || create.pending().get()>
                        "Submit"
                    </button>
                </div>
            </UploadForm>
        </section>
    }
}

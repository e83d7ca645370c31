//! Lifting a colleague's sign-in wait (store managers and admins, at the foot of the
//! 退款 tab): wrong passwords slow an account down instead of locking it, and the
//! manager standing next to the till can end the wait at once. The server checks the
//! account is of the manager's store and audits the unlock.

use leptos::{ev::SubmitEvent, prelude::*, task::spawn_local};
use member_core::dto::codes;

use crate::api;
use crate::i18n::{errors, fill, staff::S, I18n, Lang, Text};
use crate::screens::staff::{StaffNav, StaffScreen};

fn refusal_text(lang: Lang, code: &str) -> &'static str {
    match code {
        codes::NOT_FOUND => S::NoSuchStaff.text(lang),
        other => errors::mall_error_text(lang, other),
    }
}

#[component]
pub fn StaffUnlock() -> impl IntoView {
    let i18n = I18n::get();
    let nav = StaffNav::get();
    let username = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let name = username.get_untracked().trim().to_string();
        if name.is_empty() || busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        done.set(None);
        spawn_local(async move {
            match api::unlock_staff(&name).await {
                Ok(()) => {
                    done.set(Some(name));
                    username.set(String::new());
                }
                Err(e) if e.is_unauthenticated() => nav.replace(StaffScreen::Login),
                Err(e) => error.set(Some(e.code().to_string())),
            }
            busy.set(false);
        });
    };

    view! {
        <section id="unlock-staff" class="unlock-staff">
            <h2 class="field-label">{i18n.tr(S::UnlockTitle)}</h2>
            <p class="subtle small">{i18n.tr(S::UnlockHint)}</p>
            <form id="unlock-form" class="scan-form" on:submit=submit novalidate>
                <label class="field-label" for="unlock-username">{i18n.tr(S::UnlockUsername)}</label>
                <div class="field-row">
                    <input
                        id="unlock-username"
                        class="scan-input"
                        type="text"
                        autocomplete="off"
                        autocapitalize="off"
                        spellcheck="false"
                        prop:value=username
                        on:input:target=move |ev| username.set(ev.target().value())
                    />
                    <button
                        id="unlock-submit"
                        type="submit"
                        class="button secondary"
                        disabled=move || busy.get() || username.with(|u| u.trim().is_empty())
                    >
                        {i18n.tr(S::Unlock)}
                    </button>
                </div>
            </form>
            {move || {
                error.get().map(|code| {
                    view! { <p class="error" role="alert">{refusal_text(i18n.lang(), &code)}</p> }
                })
            }}
            {move || {
                done.get().map(|name| {
                    view! {
                        <p id="unlock-done" class="notice" role="status">
                            {fill(i18n.t(S::Unlocked), &[("username", &name)])}
                        </p>
                    }
                })
            }}
        </section>
    }
}

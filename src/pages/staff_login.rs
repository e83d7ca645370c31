//! Staff sign-in (username + password).

use leptos::{ev::SubmitEvent, prelude::*, task::spawn_local};
use member_core::dto::{codes, StaffLoginRequest};

use crate::api;
use crate::components::error_text::ErrorText;
use crate::components::lang_toggle::LangToggle;
use crate::i18n::{staff::S, I18n};
use crate::screens::staff::{StaffNav, StaffScreen};

#[component]
pub fn StaffLoginPage() -> impl IntoView {
    let i18n = I18n::get();
    let nav = StaffNav::get();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let body = StaffLoginRequest {
            username: username.get_untracked().trim().to_string(),
            password: password.get_untracked(),
        };
        if body.username.is_empty() || body.password.is_empty() {
            error.set(Some(codes::BAD_CREDENTIALS.to_string()));
            return;
        }
        error.set(None);
        busy.set(true);
        // Looked up here: inside the task, after an await, no context is reachable and
        // `get` would hand back a detached signal (the manager's tab then never showed
        // until a reload).
        let staff_me = crate::screens::staff::StaffMe::get();
        spawn_local(async move {
            match api::staff_login(&body).await {
                Ok(me) => {
                    staff_me.0.set(Some(me));
                    nav.replace(StaffScreen::Checkout);
                }
                Err(e) => {
                    error.set(Some(e.code().to_string()));
                    busy.set(false);
                }
            }
        });
    };

    view! {
        <div class="page staff staff-login">
            <header class="brand-bar">
                <span class="brand">{i18n.tr(S::Title)}</span>
                <LangToggle />
            </header>
            <main class="panel narrow">
                <h1>{i18n.tr(S::LoginTitle)}</h1>
                <form class="form" on:submit=submit novalidate>
                    <label class="field">
                        <span class="field-label">{i18n.tr(S::Username)}</span>
                        <input
                            id="username"
                            type="text"
                            autocomplete="username"
                            autocapitalize="none"
                            autofocus
                            prop:value=username
                            on:input:target=move |ev| username.set(ev.target().value())
                        />
                    </label>
                    <label class="field">
                        <span class="field-label">{i18n.tr(S::Password)}</span>
                        <input
                            id="password"
                            type="password"
                            autocomplete="current-password"
                            prop:value=password
                            on:input:target=move |ev| password.set(ev.target().value())
                        />
                    </label>
                    <ErrorText error=error />
                    <p
                        id="ask-manager"
                        class="subtle small"
                        hidden=move || error.with(|e| e.as_deref() != Some(codes::RATE_LIMITED))
                    >
                        {i18n.tr(S::AskManagerToUnlock)}
                    </p>
                    <button
                        id="login"
                        type="submit"
                        class="button primary block"
                        disabled=move || busy.get()
                    >
                        {move || if busy.get() { i18n.t(S::LoggingIn) } else { i18n.t(S::Login) }}
                    </button>
                </form>
            </main>
        </div>
    }
}

//! Member sign-in / sign-up: phone -> SMS code -> code (+ name for new members) and consent.

use std::time::Duration;

use leptos::{ev::SubmitEvent, html, prelude::*, task::spawn_local};
use member_core::dto::{codes, VerifyOtpRequest};
use member_core::phone::Phone;

use crate::api;
use crate::components::error_text::ErrorText;
use crate::components::lang_toggle::LangToggle;
use crate::components::signup_form::{ConsentText, FieldErrors, WhyDisabled};
use crate::i18n::{errors, fill, member::M, I18n};
use crate::screens::member::{MemberNav, MemberScreen};
use crate::session;

/// Fallback when the server does not say how long to wait before resending.
const RESEND_SECS: i64 = 60;

/// `?next=/claim/…`: where to go once signed in. Only a path on this site, so a link
/// cannot send a member elsewhere after signing in.
fn next_path() -> Option<String> {
    let search = window().location().search().ok()?;
    let raw = search.strip_prefix("?next=")?;
    let next = String::from(js_sys::decode_uri_component(raw).ok()?);
    safe_next(&next).then_some(next)
}

fn safe_next(next: &str) -> bool {
    next.starts_with('/') && !next.starts_with("//") && !next.contains(['\\', ':'])
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let i18n = I18n::get();
    let nav = MemberNav::get();

    let phone = RwSignal::new(String::new());
    let otp = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let privacy = RwSignal::new(false);
    let marketing = RwSignal::new(false);
    let sending = RwSignal::new(false);
    let verifying = RwSignal::new(false);
    let resend_left = RwSignal::new(0_i64);
    let code_sent = RwSignal::new(false);
    // Error codes, turned into text at render time so a language switch re-translates
    // them, each shown at the field it is about.
    let errs = FieldErrors::new();
    let otp_ref = NodeRef::<html::Input>::new();
    let name_ref = NodeRef::<html::Input>::new();

    let tick = set_interval_with_handle(
        move || {
            if resend_left.get_untracked() > 0 {
                resend_left.update(|s| *s -= 1);
            }
        },
        Duration::from_secs(1),
    )
    .ok();
    on_cleanup(move || {
        if let Some(t) = tick {
            t.clear();
        }
    });

    let parsed_phone = move || Phone::parse(&phone.get_untracked()).ok();

    let send_code = move |_| {
        errs.clear();
        let Some(p) = parsed_phone() else {
            errs.set(codes::INVALID_PHONE);
            return;
        };
        sending.set(true);
        let lang = i18n.lang().tag();
        spawn_local(async move {
            match api::request_otp(p.as_e164(), lang).await {
                Ok(sent) => {
                    code_sent.set(true);
                    resend_left.set(if sent.resend_after_secs > 0 {
                        sent.resend_after_secs
                    } else {
                        RESEND_SECS
                    });
                    if let Some(input) = otp_ref.get_untracked() {
                        let _ = input.focus();
                    }
                }
                Err(e) => {
                    if e.code() == codes::RATE_LIMITED {
                        resend_left.set(RESEND_SECS);
                    }
                    errs.set(e.code());
                }
            }
            sending.set(false);
        });
    };

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if verifying.get_untracked() || !privacy.get_untracked() {
            return;
        }
        errs.clear();
        let Some(p) = parsed_phone() else {
            errs.set(codes::INVALID_PHONE);
            return;
        };
        let code = otp.get_untracked().trim().to_string();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            errs.set(errors::OTP_FORMAT);
            return;
        }
        let name = name.get_untracked().trim().to_string();
        let body = VerifyOtpRequest {
            phone: p.as_e164().to_string(),
            code,
            name: (!name.is_empty()).then_some(name),
            privacy_consent: true,
            marketing_consent: marketing.get_untracked(),
            link: None,
            referral_code: None,
            birthday: None,
            gender: None,
            city: None,
        };
        verifying.set(true);
        spawn_local(async move {
            match api::verify_otp(&body).await {
                Ok(me) => {
                    // A different member may have used this device before.
                    session::clear();
                    session::save_me(&me);
                    match next_path() {
                        // Another bundle (a claim link, the wallet): a page load.
                        Some(next) => {
                            let _ = window().location().replace(&next);
                        }
                        None => nav.replace(MemberScreen::Card),
                    }
                }
                Err(e) => {
                    if e.code() == codes::NAME_REQUIRED {
                        if let Some(input) = name_ref.get_untracked() {
                            let _ = input.focus();
                        }
                    }
                    errs.set(e.code());
                    verifying.set(false);
                }
            }
        });
    };

    let send_label = move || {
        let left = resend_left.get();
        if sending.get() {
            i18n.t(M::Sending).to_string()
        } else if left > 0 {
            fill(i18n.t(M::ResendIn), &[("n", &left.to_string())])
        } else {
            i18n.t(M::SendCode).to_string()
        }
    };

    view! {
        <div class="page login-page">
            <header class="brand-bar">
                <span class="brand">{i18n.tr(M::Brand)}</span>
                <LangToggle />
            </header>
            <main class="panel">
                <h1>{i18n.tr(M::LoginTitle)}</h1>
                <p class="subtle">{i18n.tr(M::LoginSubtitle)}</p>
                <form class="form" on:submit=submit novalidate>
                    <div class="field">
                        <label class="field-label" for="phone">
                            {i18n.tr(M::PhoneLabel)}
                        </label>
                        <div class="field-row">
                            <input
                                id="phone"
                                type="tel"
                                inputmode="tel"
                                autocomplete="tel"
                                maxlength="20"
                                placeholder=i18n.tr(M::PhonePlaceholder)
                                prop:value=phone
                                on:input:target=move |ev| phone.set(ev.target().value())
                            />
                            <button
                                id="send-code"
                                type="button"
                                class="button secondary"
                                disabled=move || { sending.get() || resend_left.get() > 0 }
                                on:click=send_code
                            >
                                {send_label}
                            </button>
                        </div>
                        <ErrorText error=errs.phone class="field-error" />
                    </div>
                    <p class="notice" role="status" hidden=move || !code_sent.get()>
                        {i18n.tr(M::CodeSent)}
                    </p>
                    <label class="field">
                        <span class="field-label">{i18n.tr(M::OtpLabel)}</span>
                        <input
                            id="otp"
                            node_ref=otp_ref
                            type="text"
                            inputmode="numeric"
                            autocomplete="one-time-code"
                            maxlength="6"
                            placeholder=i18n.tr(M::OtpPlaceholder)
                            prop:value=otp
                            on:input:target=move |ev| otp.set(ev.target().value())
                        />
                        <ErrorText error=errs.code class="field-error" />
                    </label>
                    <label class="field">
                        <span class="field-label">
                            {i18n.tr(M::NameLabel)}
                            <span class="field-hint">{i18n.tr(M::NameHint)}</span>
                        </span>
                        <input
                            id="name"
                            node_ref=name_ref
                            type="text"
                            autocomplete="name"
                            maxlength="40"
                            prop:value=name
                            on:input:target=move |ev| name.set(ev.target().value())
                        />
                        <ErrorText error=errs.name class="field-error" />
                    </label>
                    <label class="check">
                        <input
                            id="privacy-consent"
                            type="checkbox"
                            prop:checked=privacy
                            on:change:target=move |ev| privacy.set(ev.target().checked())
                        />
                        <ConsentText />
                    </label>
                    <ErrorText error=errs.consent class="field-error" />
                    <label class="check">
                        <input
                            id="marketing-consent"
                            type="checkbox"
                            prop:checked=marketing
                            on:change:target=move |ev| marketing.set(ev.target().checked())
                        />
                        <span>{i18n.tr(M::MarketingConsent)}</span>
                    </label>
                    <ErrorText error=errs.form />
                    <button
                        id="verify"
                        type="submit"
                        class="button primary block"
                        disabled=move || !privacy.get() || verifying.get()
                    >
                        {move || {
                            if verifying.get() { i18n.t(M::Verifying) } else { i18n.t(M::Verify) }
                        }}
                    </button>
                    <WhyDisabled id="verify-why" consent=privacy />
                </form>
            </main>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert!(safe_next("/claim/K7M2P9QRSTUVWXYZ"));
        assert!(safe_next("/coupons/"));
        assert!(!safe_next("//evil.example/"));
        assert!(!safe_next("https://evil.example/"));
        assert!(!safe_next("/\\evil.example"));
        assert!(!safe_next("claim"));
    }
}

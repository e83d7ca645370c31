//! `/join?c=…&ref=…`: what a customer sees after scanning a poster, a table tent, a
//! cashier's badge or a friend's invitation: the brand's welcome (store, gift, who
//! invited), then phone + SMS code + consent and the fields the brand asks for. An
//! expired, revoked or unreadable code says so kindly and still signs up. Someone who
//! is a member already is signed in and goes to the card: no second account.

use std::time::Duration;

use leptos::{ev::SubmitEvent, prelude::*, task::spawn_local};
use member_core::dto::{codes, VerifyOtpRequest, WelcomeView};
use member_core::phone::Phone;
use member_core::signup::Ask;

use crate::api;
use crate::components::error_text::ErrorText;
use crate::components::lang_toggle::LangToggle;
use crate::components::signup_form::{ConsentText, FieldErrors, WhyDisabled};
use crate::i18n::join::{friend_line, J};
use crate::i18n::{errors, fill, I18n};
use crate::session;

const RESEND_SECS: i64 = 60;

fn query() -> String {
    window()
        .location()
        .search()
        .ok()
        .map(|s| s.trim_start_matches('?').to_string())
        .unwrap_or_default()
}

/// One parameter of the page's query, decoded.
fn param(name: &str) -> Option<String> {
    query().split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name && !v.is_empty())
            .then(|| js_sys::decode_uri_component(v).ok().map(String::from))
            .flatten()
    })
}

fn ask(s: &str) -> Ask {
    Ask::parse(s).unwrap_or_default()
}

#[component]
pub fn JoinPage() -> impl IntoView {
    let i18n = I18n::get();
    let welcome = RwSignal::new(None::<WelcomeView>);
    let load_error = RwSignal::new(None::<String>);
    // A member already signed in on this phone goes straight to the card.
    let known = session::load_me().is_some();
    if known {
        let _ = window().location().replace("/");
    } else {
        spawn_local(async move {
            match api::signup_welcome(&query()).await {
                Ok(w) => welcome.set(Some(w)),
                Err(e) => load_error.set(Some(e.code().to_string())),
            }
        });
    }

    let phone = RwSignal::new(String::new());
    let otp = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let birthday = RwSignal::new(String::new());
    let gender = RwSignal::new(String::new());
    let city = RwSignal::new(String::new());
    let privacy = RwSignal::new(false);
    let marketing = RwSignal::new(false);
    let sending = RwSignal::new(false);
    let joining = RwSignal::new(false);
    let code_sent = RwSignal::new(false);
    let resend_left = RwSignal::new(0_i64);
    let errs = FieldErrors::new();

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

    let send_code = move |_| {
        errs.clear();
        let Ok(p) = Phone::parse(&phone.get_untracked()) else {
            errs.set(codes::INVALID_PHONE);
            return;
        };
        sending.set(true);
        let lang = i18n.lang().tag();
        spawn_local(async move {
            match api::request_otp(p.as_e164(), lang).await {
                Ok(sent) => {
                    code_sent.set(true);
                    resend_left.set(sent.resend_after_secs.max(1));
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
        if joining.get_untracked() || !privacy.get_untracked() {
            return;
        }
        errs.clear();
        let Ok(p) = Phone::parse(&phone.get_untracked()) else {
            errs.set(codes::INVALID_PHONE);
            return;
        };
        let code = otp.get_untracked().trim().to_string();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            errs.set(errors::OTP_FORMAT);
            return;
        }
        let given = |s: RwSignal<String>| {
            let v = s.get_untracked().trim().to_string();
            (!v.is_empty()).then_some(v)
        };
        let body = VerifyOtpRequest {
            phone: p.as_e164().to_string(),
            code,
            name: given(name),
            privacy_consent: true,
            marketing_consent: marketing.get_untracked(),
            link: param("c"),
            referral_code: param("ref"),
            birthday: given(birthday),
            gender: given(gender),
            city: given(city),
        };
        joining.set(true);
        spawn_local(async move {
            match api::verify_otp(&body).await {
                Ok(me) => {
                    session::clear();
                    session::save_me(&me);
                    // The card is the member bundle: a page load.
                    let _ = window().location().replace("/");
                }
                Err(e) => {
                    errs.set(e.code());
                    joining.set(false);
                }
            }
        });
    };

    let header = move || {
        welcome.get().map(|w| {
            let notice = match w.link_status.as_str() {
                "expired" => Some(J::LinkExpired),
                "revoked" => Some(J::LinkRevoked),
                "invalid" => Some(J::LinkInvalid),
                _ => None,
            };
            view! {
                <h1 id="join-brand">{fill(i18n.t(J::Welcome), &[("brand", &w.brand_name)])}</h1>
                {w.store_name.map(|s| view! {
                    <p id="join-store" class="subtle">{fill(i18n.t(J::AtStore), &[("store", &s)])}</p>
                })}
                {notice.map(|n| view! { <p id="join-link-notice" class="notice">{i18n.tr(n)}</p> })}
                {w.referrer.map(|r| view! {
                    <p id="join-referrer" class="notice">{fill(i18n.t(J::InvitedBy), &[("name", &r)])}</p>
                })}
                {w.referral_reward.map(|r| view! {
                    <p id="join-referral-reward" class="small subtle">{friend_line(i18n.lang(), &r)}</p>
                })}
                {w.gift.map(|g| view! {
                    <section id="join-gift" class="join-gift">
                        <h2>{i18n.tr(J::GiftTitle)} " · " {g.name}</h2>
                        <ul>{g.items.into_iter().map(|i| view! { <li>{i}</li> }).collect_view()}</ul>
                        <p class="small subtle">{i18n.tr(J::GiftNote)}</p>
                    </section>
                })}
            }
        })
    };

    let field_label = move |key: J, a: Ask| {
        view! {
            <span class="field-label">
                {i18n.tr(key)}
                {match a {
                    Ask::Required => view! { <span class="required">" *"</span> }.into_any(),
                    _ => view! { <span class="field-hint">{i18n.tr(J::Optional)}</span> }.into_any(),
                }}
            </span>
        }
    };
    let extra_fields = move || {
        welcome.get().map(|w| {
            let (b, g, c) = (ask(&w.fields.birthday), ask(&w.fields.gender), ask(&w.fields.city));
            view! {
                {(b != Ask::Off).then(|| view! {
                    <label class="field">
                        {field_label(J::Birthday, b)}
                        <input id="join-birthday" type="date" prop:value=birthday
                            on:input:target=move |ev| birthday.set(ev.target().value()) />
                    </label>
                })}
                {(g != Ask::Off).then(|| view! {
                    <label class="field">
                        {field_label(J::Gender, g)}
                        <select id="join-gender" on:change:target=move |ev| gender.set(ev.target().value())>
                            <option value="">"—"</option>
                            <option value="female">{i18n.tr(J::Female)}</option>
                            <option value="male">{i18n.tr(J::Male)}</option>
                            <option value="other">{i18n.tr(J::Other)}</option>
                        </select>
                    </label>
                })}
                {(c != Ask::Off).then(|| view! {
                    <label class="field">
                        {field_label(J::City, c)}
                        <input id="join-city" type="text" maxlength="40" prop:value=city
                            on:input:target=move |ev| city.set(ev.target().value()) />
                    </label>
                })}
            }
        })
    };

    let send_label = move || {
        let left = resend_left.get();
        if sending.get() {
            i18n.t(J::Sending).to_string()
        } else if left > 0 {
            fill(i18n.t(J::ResendIn), &[("n", &left.to_string())])
        } else {
            i18n.t(J::SendCode).to_string()
        }
    };

    let form = view! {
        <form class="form" id="join-form" on:submit=submit novalidate>
            <h2 class="join-form-title">{i18n.tr(J::JoinTitle)}</h2>
            <div class="field">
                <label class="field-label" for="join-phone">{i18n.tr(J::Phone)}</label>
                <div class="field-row">
                    <input id="join-phone" type="tel" inputmode="tel" autocomplete="tel" maxlength="20"
                        prop:value=phone on:input:target=move |ev| phone.set(ev.target().value()) />
                    <button id="join-send-code" type="button" class="button secondary"
                        disabled=move || { sending.get() || resend_left.get() > 0 }
                        on:click=send_code>
                        {send_label}
                    </button>
                </div>
                <ErrorText error=errs.phone class="field-error" texts=errors::mall_error_text />
            </div>
            <p class="notice" role="status" hidden=move || !code_sent.get()>{i18n.tr(J::CodeSent)}</p>
            <label class="field">
                <span class="field-label">{i18n.tr(J::Code)}</span>
                <input id="join-otp" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="6"
                    prop:value=otp on:input:target=move |ev| otp.set(ev.target().value()) />
                <ErrorText error=errs.code class="field-error" texts=errors::mall_error_text />
            </label>
            <label class="field">
                <span class="field-label">{i18n.tr(J::Name)}</span>
                <input id="join-name" type="text" autocomplete="name" maxlength="40"
                    prop:value=name on:input:target=move |ev| name.set(ev.target().value()) />
                <ErrorText error=errs.name class="field-error" texts=errors::mall_error_text />
            </label>
            {extra_fields}
            <label class="check">
                <input id="join-privacy" type="checkbox" prop:checked=privacy
                    on:change:target=move |ev| privacy.set(ev.target().checked()) />
                <ConsentText />
            </label>
            <ErrorText error=errs.consent class="field-error" texts=errors::mall_error_text />
            <label class="check">
                <input id="join-marketing" type="checkbox" prop:checked=marketing
                    on:change:target=move |ev| marketing.set(ev.target().checked()) />
                <span>{i18n.tr(J::Marketing)}</span>
            </label>
            <ErrorText error=errs.form texts=errors::mall_error_text />
            <button id="join-submit" type="submit" class="button primary block"
                disabled=move || !privacy.get() || joining.get()>
                {move || if joining.get() { i18n.t(J::Joining) } else { i18n.t(J::Join) }}
            </button>
            <WhyDisabled id="join-why" consent=privacy />
        </form>
    };

    view! {
        <div class="page login-page join-page">
            <header class="brand-bar">
                <span class="brand">{move || welcome.with(|w| w.as_ref().map(|w| w.brand_name.clone()))}</span>
                <LangToggle />
            </header>
            <main class="panel">
                {if known {
                    view! {
                        <div id="join-known" class="empty">
                            <p>{i18n.tr(J::AlreadyMember)}</p>
                            <a id="join-open-card" class="button primary block" href="/">{i18n.tr(J::OpenCard)}</a>
                        </div>
                    }
                    .into_any()
                } else {
                    view! {
                        <p class="subtle center" hidden=move || welcome.with(Option::is_some) || load_error.with(Option::is_some)>
                            {i18n.tr(J::Loading)}
                        </p>
                        <ErrorText error=load_error texts=errors::mall_error_text />
                        {header}
                        {form}
                    }
                    .into_any()
                }}
            </main>
        </div>
    }
}

//! `/staff/signup-code`: the cashier's personal sign-up QR code, big enough to scan from
//! the counter. Customers who join through it count for the store and the cashier.

use leptos::{prelude::*, task::spawn_local};
use member_core::dto::SignupLinkView;

use crate::api;
use crate::components::error_text::ErrorText;
use crate::components::lang_toggle::LangToggle;
use crate::components::qr::qr_svg;
use crate::components::staff_bar::{StaffTabs, Tab};
use crate::i18n::{errors, fill, staff::S, I18n};
use crate::screens::staff::{StaffNav, StaffScreen};

#[component]
pub fn StaffSignupCodePage() -> impl IntoView {
    let i18n = I18n::get();
    let nav = StaffNav::get();
    let link = RwSignal::new(None::<SignupLinkView>);
    let error = RwSignal::new(None::<String>);
    spawn_local(async move {
        match api::staff_signup_link().await {
            Ok(l) => link.set(Some(l)),
            Err(e) if e.is_unauthenticated() => nav.replace(StaffScreen::Login),
            Err(e) => error.set(Some(e.code().to_string())),
        }
    });
    let body = move || {
        link.get().map(|l| {
            let url = format!("{}{}", window().location().origin().unwrap_or_default(), l.path);
            view! {
                <p id="signup-code-lead" class="subtle center">
                    {fill(i18n.t(S::SignupCodeLead), &[("store", &l.store_name)])}
                </p>
                <div id="signup-code-qr" class="qr signup-code-qr" inner_html=qr_svg(&url, i18n.t(S::SignupCodeTitle))></div>
            }
        })
    };
    view! {
        <div class="page staff-page">
            <header class="brand-bar">
                <h1 class="brand">{i18n.tr(S::SignupCodeTitle)}</h1>
                <LangToggle />
            </header>
            <StaffTabs active=Tab::SignupCode />
            <main class="checkout">
                <p class="subtle center" hidden=move || link.with(Option::is_some) || error.with(Option::is_some)>
                    {i18n.tr(S::SignupCodeLoading)}
                </p>
                <ErrorText error=error texts=errors::mall_error_text />
                {body}
            </main>
        </div>
    }
}

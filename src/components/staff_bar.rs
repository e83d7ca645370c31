//! What every staff screen has on top: the tabs (refunds only for managers) and the
//! sign-out button.

use leptos::{prelude::*, task::spawn_local};

use crate::api;
use crate::i18n::{staff::S, I18n};
use crate::nav::Link;
use crate::screens::staff::{StaffMe, StaffNav, StaffScreen};

/// Which tab of the staff app is showing.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Checkout,
    Orders,
    SignupCode,
    Refunds,
}

/// The tabs of the staff app: checkout, mall orders and the cashier's sign-up code.
#[component]
pub fn StaffTabs(active: Tab) -> impl IntoView {
    let i18n = I18n::get();
    let me = StaffMe::get();
    let class = move |t: Tab| if t == active { "tab active" } else { "tab" };
    view! {
        <nav class="staff-tabs">
            <Link to=StaffScreen::Checkout id="tab-checkout" class=class(Tab::Checkout)>
                {i18n.tr(S::TabCheckout)}
            </Link>
            <Link to=StaffScreen::Orders id="tab-orders" class=class(Tab::Orders)>
                {i18n.tr(S::TabOrders)}
            </Link>
            <Link to=StaffScreen::SignupCode id="tab-signup-code" class=class(Tab::SignupCode)>
                {i18n.tr(S::TabSignupCode)}
            </Link>
            <Show when=move || me.is_manager()>
                <Link to=StaffScreen::Refunds id="tab-refunds" class=class(Tab::Refunds)>
                    {i18n.tr(S::TabRefunds)}
                </Link>
            </Show>
        </nav>
    }
}

/// The staff app's sign-out button (the session ends on the server, then the login).
#[component]
pub fn StaffSignOut() -> impl IntoView {
    let i18n = I18n::get();
    let nav = StaffNav::get();
    let sign_out = move |_| {
        spawn_local(async move {
            let _ = api::staff_logout().await;
            nav.replace(StaffScreen::Login);
        });
    };
    view! {
        <button id="staff-logout" type="button" class="button ghost small" on:click=sign_out>
            {i18n.tr(S::Logout)}
        </button>
    }
}

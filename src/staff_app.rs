//! Root of the staff bundle, served under `/staff/`: sign-in, checkout and the handover
//! of points-mall orders.

use leptos::prelude::*;

use crate::i18n::I18n;
use crate::pages::{
    checkout::CheckoutPage, staff_login::StaffLoginPage, staff_order::StaffOrderPage,
    staff_refunds::StaffRefundsPage, staff_signup::StaffSignupCodePage,
};
use crate::screens::staff::{StaffMe, StaffNav, StaffScreen};

#[component]
pub fn StaffApp() -> impl IntoView {
    I18n::provide();
    let nav = StaffNav::provide();
    StaffMe::provide().refresh();
    move || match nav.current() {
        StaffScreen::Checkout => view! { <CheckoutPage /> }.into_any(),
        StaffScreen::Login => view! { <StaffLoginPage /> }.into_any(),
        StaffScreen::Orders => view! { <StaffOrderPage code=None /> }.into_any(),
        StaffScreen::Order(code) => view! { <StaffOrderPage code=Some(code) /> }.into_any(),
        StaffScreen::SignupCode => view! { <StaffSignupCodePage /> }.into_any(),
        StaffScreen::Refunds => view! { <StaffRefundsPage /> }.into_any(),
    }
}

pub fn mount() {
    leptos::mount::mount_to_body(StaffApp);
}

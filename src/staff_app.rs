//! Root of the staff bundle, served under `/staff/`: sign-in, checkout and the handover
//! of points-mall orders.

use leptos::prelude::*;

use crate::i18n::I18n;
use crate::nav::{Nav, Screens};
use crate::order_code::OrderCode;
use crate::pages::{
    checkout::CheckoutPage, staff_login::StaffLoginPage, staff_order::StaffOrderPage,
    staff_signup::StaffSignupCodePage,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaffScreen {
    Checkout,
    Login,
    /// The order lookup, nothing looked up yet.
    Orders,
    Order(OrderCode),
    /// The cashier's personal sign-up QR code.
    SignupCode,
}

impl Screens for StaffScreen {
    fn from_path(path: &str) -> Self {
        match path.trim_end_matches('/') {
            "/staff/login" => Self::Login,
            "/staff/orders" => Self::Orders,
            "/staff/signup-code" => Self::SignupCode,
            p => match p.strip_prefix("/staff/orders/") {
                Some(code) => OrderCode::parse(code).map_or(Self::Orders, Self::Order),
                // `/staff/` and anything unknown under it is the checkout screen.
                None => Self::Checkout,
            },
        }
    }

    fn path(self) -> String {
        match self {
            Self::Checkout => "/staff/".to_string(),
            Self::Login => "/staff/login".to_string(),
            Self::Orders => "/staff/orders".to_string(),
            Self::Order(code) => format!("/staff/orders/{}", code.as_str()),
            Self::SignupCode => "/staff/signup-code".to_string(),
        }
    }
}

pub type StaffNav = Nav<StaffScreen>;

#[component]
pub fn StaffApp() -> impl IntoView {
    I18n::provide();
    let nav = StaffNav::provide();
    move || match nav.current() {
        StaffScreen::Checkout => view! { <CheckoutPage /> }.into_any(),
        StaffScreen::Login => view! { <StaffLoginPage /> }.into_any(),
        StaffScreen::Orders => view! { <StaffOrderPage code=None /> }.into_any(),
        StaffScreen::Order(code) => view! { <StaffOrderPage code=Some(code) /> }.into_any(),
        StaffScreen::SignupCode => view! { <StaffSignupCodePage /> }.into_any(),
    }
}

pub fn mount() {
    leptos::mount::mount_to_body(StaffApp);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip() {
        let code = OrderCode::parse("ABCDEFGHJK").map(StaffScreen::Order);
        for s in [
            StaffScreen::Checkout,
            StaffScreen::Login,
            StaffScreen::Orders,
            StaffScreen::SignupCode,
        ]
        .into_iter()
        .chain(code)
        {
            assert_eq!(StaffScreen::from_path(&s.path()), s);
        }
        assert_eq!(StaffScreen::from_path("/staff"), StaffScreen::Checkout);
        assert_eq!(
            StaffScreen::from_path("/staff/orders/abcde-fghjk"),
            StaffScreen::Order(OrderCode::parse("ABCDEFGHJK").unwrap())
        );
        assert_eq!(
            StaffScreen::from_path("/staff/orders/nope"),
            StaffScreen::Orders
        );
    }
}

//! Root of the staff bundle, served under `/staff/`: sign-in and checkout.

use leptos::prelude::*;

use crate::i18n::I18n;
use crate::nav::{Nav, Screens};
use crate::pages::{checkout::CheckoutPage, staff_login::StaffLoginPage};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaffScreen {
    Checkout,
    Login,
}

impl Screens for StaffScreen {
    fn from_path(path: &str) -> Self {
        match path.trim_end_matches('/') {
            "/staff/login" => Self::Login,
            // `/staff/` and anything unknown under it is the checkout screen.
            _ => Self::Checkout,
        }
    }

    fn path(self) -> &'static str {
        match self {
            Self::Checkout => "/staff/",
            Self::Login => "/staff/login",
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
    }
}

pub fn mount() {
    leptos::mount::mount_to_body(StaffApp);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip() {
        for s in [StaffScreen::Checkout, StaffScreen::Login] {
            assert_eq!(StaffScreen::from_path(s.path()), s);
        }
        assert_eq!(StaffScreen::from_path("/staff"), StaffScreen::Checkout);
    }
}

//! The screens of the staff bundle, their paths, and who is signed in at this till.

use leptos::prelude::*;
use leptos::task::spawn_local;
use member_core::dto::StaffView;

use crate::nav::{Nav, Screens};
use crate::order_code::OrderCode;

/// Who is signed in at this till (`/api/v1/staff/me`), shared by every screen so each
/// offers only what the role may do: refunds are for managers and admins.
#[derive(Clone, Copy)]
pub struct StaffMe(pub RwSignal<Option<StaffView>>);

impl StaffMe {
    pub fn provide() -> Self {
        let me = Self(RwSignal::new(None));
        provide_context(me);
        me
    }

    pub fn get() -> Self {
        use_context::<Self>().unwrap_or_else(|| Self(RwSignal::new(None)))
    }

    /// Asks the server again (after signing in, or when a screen opens).
    pub fn refresh(self) {
        spawn_local(async move {
            if let Ok(me) = crate::api::staff_me().await {
                self.0.set(Some(me));
            }
        });
    }

    /// Known to be a manager or admin; unknown yet counts as not, so nothing manager-only
    /// shows before the role is known.
    pub fn is_manager(self) -> bool {
        self.0.with(|s| {
            s.as_ref()
                .is_some_and(|s| matches!(s.role.as_str(), "manager" | "admin"))
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaffScreen {
    Checkout,
    Login,
    /// The order lookup, nothing looked up yet.
    Orders,
    Order(OrderCode),
    /// The cashier's personal sign-up QR code.
    SignupCode,
    /// Refunding purchases (managers).
    Refunds,
}

impl Screens for StaffScreen {
    fn from_path(path: &str) -> Self {
        match path.trim_end_matches('/') {
            "/staff/login" => Self::Login,
            "/staff/orders" => Self::Orders,
            "/staff/signup-code" => Self::SignupCode,
            "/staff/refunds" => Self::Refunds,
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
            Self::Refunds => "/staff/refunds".to_string(),
        }
    }
}

pub type StaffNav = Nav<StaffScreen>;

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
            StaffScreen::Refunds,
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

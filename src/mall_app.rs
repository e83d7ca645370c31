//! Root of the points-mall bundle, served under `/mall/`: items, redeeming, the order
//! code for pickup, and the member's orders. Its own bundle so the e-card's first load
//! (which has a size budget) does not carry it; the session is the member app's cookie.

use leptos::{prelude::*, task::spawn_local};
use member_core::dto::{MallItem, MallOrderResult, MeView};

use crate::api::{self, ApiError};
use crate::i18n::I18n;
use crate::nav::{Nav, Screens};
use crate::order_code::OrderCode;
use crate::pages::mall::{item::ItemPage, list::ListPage, order::OrderPage, orders::OrdersPage};
use crate::session;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MallScreen {
    List,
    Item(i64),
    Orders,
    Order(OrderCode),
}

impl Screens for MallScreen {
    fn from_path(path: &str) -> Self {
        let rest = path
            .strip_prefix("/mall")
            .unwrap_or(path)
            .trim_end_matches('/');
        if rest == "/orders" {
            return Self::Orders;
        }
        if let Some(code) = rest.strip_prefix("/orders/") {
            return OrderCode::parse(code).map_or(Self::Orders, Self::Order);
        }
        match rest.strip_prefix("/items/").map(str::parse::<i64>) {
            Some(Ok(id)) => Self::Item(id),
            // `/mall/` and anything unknown under it is the item list.
            _ => Self::List,
        }
    }

    fn path(self) -> String {
        match self {
            Self::List => "/mall/".to_string(),
            Self::Item(id) => format!("/mall/items/{id}"),
            Self::Orders => "/mall/orders".to_string(),
            Self::Order(code) => format!("/mall/orders/{}", code.as_str()),
        }
    }
}

pub type MallNav = Nav<MallScreen>;

/// What the mall's screens share: the member (for the points balance), the item list
/// (kept while moving between list and item), and the answer of a redemption just made
/// (the order page shows it as a success).
#[derive(Clone, Copy)]
pub struct MallState {
    pub me: RwSignal<Option<MeView>>,
    pub items: RwSignal<Option<Vec<MallItem>>>,
    pub redeemed: RwSignal<Option<MallOrderResult>>,
}

impl MallState {
    fn provide() -> Self {
        // The card's cached member shows the balance at once; `/me` then refreshes it.
        let this = Self {
            me: RwSignal::new(session::load_me()),
            items: RwSignal::new(None),
            redeemed: RwSignal::new(None),
        };
        provide_context(this);
        this.refresh_me();
        this
    }

    pub fn get() -> Self {
        use_context::<Self>().unwrap_or_else(Self::provide)
    }

    pub fn refresh_me(self) {
        spawn_local(async move {
            match api::me().await {
                Ok(me) => {
                    session::save_me(&me);
                    self.me.set(Some(me));
                }
                Err(e) if e.is_unauthenticated() => to_sign_in(),
                // The balance stays as cached; the screens report their own errors.
                Err(_) => {}
            }
        });
    }

    /// The balance, when known.
    pub fn points(self) -> Option<i64> {
        self.me.with(|m| m.as_ref().map(|m| m.points))
    }
}

/// Not signed in (or the session ended): the member app signs in.
pub fn to_sign_in() {
    session::clear();
    if let Some(window) = web_sys::window() {
        let _ = window.location().replace("/");
    }
}

/// An error code for a screen, or off to sign in on a 401.
pub fn code_of(e: ApiError) -> Option<String> {
    if e.is_unauthenticated() {
        to_sign_in();
        None
    } else {
        Some(e.code().to_string())
    }
}

#[component]
pub fn MallApp() -> impl IntoView {
    I18n::provide();
    MallState::provide();
    let nav = MallNav::provide();
    move || match nav.current() {
        MallScreen::List => view! { <ListPage /> }.into_any(),
        MallScreen::Item(id) => view! { <ItemPage id=id /> }.into_any(),
        MallScreen::Orders => view! { <OrdersPage /> }.into_any(),
        MallScreen::Order(code) => view! { <OrderPage code=code /> }.into_any(),
    }
}

pub fn mount() {
    leptos::mount::mount_to_body(MallApp);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip() {
        let code = OrderCode::parse("ABCDEFGHJK").unwrap();
        for s in [
            MallScreen::List,
            MallScreen::Item(42),
            MallScreen::Orders,
            MallScreen::Order(code),
        ] {
            assert_eq!(MallScreen::from_path(&s.path()), s);
        }
        assert_eq!(MallScreen::from_path("/mall"), MallScreen::List);
        assert_eq!(MallScreen::from_path("/mall/items/x"), MallScreen::List);
        assert_eq!(
            MallScreen::from_path("/mall/orders/abcde-fghjk/"),
            MallScreen::Order(code)
        );
        assert_eq!(
            MallScreen::from_path("/mall/orders/bad"),
            MallScreen::Orders
        );
    }
}

//! The screens of the points-mall bundle (mall, wallet, profile, tiers, history, sign-up,
//! invitations), their paths, and what they share: the member and the sign-in rules.

use leptos::{prelude::*, task::spawn_local};
use member_core::dto::{MallItem, MallOrderResult, MeView};

use crate::api::{self, ApiError};
use crate::nav::{Nav, Screens};
use crate::order_code::OrderCode;
use crate::session;

/// The wallet's tabs: usable (with the not-yet-valid ones), used, expired (with void).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Usable,
    Used,
    Expired,
}

impl Tab {
    pub const ALL: [Tab; 3] = [Tab::Usable, Tab::Used, Tab::Expired];

    /// The `status` filter of `GET /api/v1/me/coupons`.
    pub fn status(self) -> &'static str {
        match self {
            Tab::Usable => "usable",
            Tab::Used => "used",
            Tab::Expired => "expired",
        }
    }
}

/// The longest claim-link token the app accepts in a path.
const TOKEN_MAX: usize = 32;

/// A claim link's token as a screen parameter (`Copy`, like `OrderCode`). The server
/// decides whether it names a campaign; the app only keeps it to ASCII letters and
/// digits so it can go into a path as it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClaimToken {
    bytes: [u8; TOKEN_MAX],
    len: usize,
}

impl ClaimToken {
    pub fn parse(input: &str) -> Option<Self> {
        let input = input.trim();
        let ok = (4..=TOKEN_MAX).contains(&input.len())
            && input.bytes().all(|b| b.is_ascii_alphanumeric());
        if !ok {
            return None;
        }
        let mut bytes = [0u8; TOKEN_MAX];
        bytes[..input.len()].copy_from_slice(input.as_bytes());
        Some(Self {
            bytes,
            len: input.len(),
        })
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MallScreen {
    List,
    Item(i64),
    Orders,
    Order(OrderCode),
    /// The coupon wallet on one tab.
    Wallet(Tab),
    Coupon(i64),
    Claim(ClaimToken),
    Profile,
    /// Tiers and benefits side by side, tasks and check-in.
    Tiers,
    Growth,
    /// The points history.
    Points,
    Inbox,
    /// In-store sign-up from a scanned code or a friend's invitation (`/join?c=…&ref=…`).
    Join,
    /// The member's share code.
    Invite,
}

impl Screens for MallScreen {
    fn from_path(path: &str) -> Self {
        let path = path.trim_end_matches('/');
        if let Some(rest) = path.strip_prefix("/coupons") {
            return match rest.trim_start_matches('/') {
                "used" => Self::Wallet(Tab::Used),
                "expired" => Self::Wallet(Tab::Expired),
                id => id
                    .parse::<i64>()
                    .map_or(Self::Wallet(Tab::Usable), Self::Coupon),
            };
        }
        if let Some(token) = path.strip_prefix("/claim/") {
            // A bad token still shows the claim screen, which says the link is not valid.
            return ClaimToken::parse(token)
                .or_else(|| ClaimToken::parse("none"))
                .map_or(Self::Wallet(Tab::Usable), Self::Claim);
        }
        match path {
            "/profile" => return Self::Profile,
            "/tiers" => return Self::Tiers,
            "/growth" => return Self::Growth,
            "/points" => return Self::Points,
            "/inbox" => return Self::Inbox,
            "/join" => return Self::Join,
            "/invite" => return Self::Invite,
            _ => {}
        }
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
            Self::Wallet(Tab::Usable) => "/coupons/".to_string(),
            Self::Wallet(Tab::Used) => "/coupons/used".to_string(),
            Self::Wallet(Tab::Expired) => "/coupons/expired".to_string(),
            Self::Coupon(id) => format!("/coupons/{id}"),
            Self::Claim(token) => format!("/claim/{}", token.as_str()),
            Self::Profile => "/profile".to_string(),
            Self::Tiers => "/tiers".to_string(),
            Self::Growth => "/growth".to_string(),
            Self::Points => "/points".to_string(),
            Self::Inbox => "/inbox".to_string(),
            Self::Join => "/join".to_string(),
            Self::Invite => "/invite".to_string(),
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
    /// Whether `/me` answered for a signed-in member: `None` until it has answered.
    /// Claim links are open to visitors, so that screen asks this instead of sending
    /// them off to sign in.
    pub signed_in: RwSignal<Option<bool>>,
    /// `/me` has answered, or failed and the cached balance is all there is: until then
    /// the balance shows as loading, not as a number that may be stale (or a 0).
    pub balance_settled: RwSignal<bool>,
}

impl MallState {
    pub fn provide() -> Self {
        // The card's cached member shows the balance at once; `/me` then refreshes it.
        let this = Self {
            me: RwSignal::new(session::load_me()),
            items: RwSignal::new(None),
            redeemed: RwSignal::new(None),
            signed_in: RwSignal::new(None),
            balance_settled: RwSignal::new(false),
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
                    self.signed_in.set(Some(true));
                    self.balance_settled.set(true);
                }
                Err(e) if e.is_unauthenticated() => {
                    self.signed_in.set(Some(false));
                    if !on_claim_link() {
                        to_sign_in();
                    }
                }
                // The balance stays as cached; the screens report their own errors.
                Err(_) => self.balance_settled.set(true),
            }
        });
    }

    /// The balance, when known.
    pub fn points(self) -> Option<i64> {
        self.me.with(|m| m.as_ref().map(|m| m.points))
    }
}

fn pathname() -> String {
    web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_default()
}

/// Screens open to visitors: a claim link, and sign-up itself.
fn on_claim_link() -> bool {
    let path = pathname();
    path.starts_with("/claim/") || path.starts_with("/join")
}

/// The member app's sign-in, coming back to `path` afterwards.
pub fn sign_in_url(path: &str) -> String {
    format!(
        "/login?next={}",
        String::from(js_sys::encode_uri_component(path))
    )
}

/// Not signed in (or the session ended): the member app signs in, then comes back here.
pub fn to_sign_in() {
    session::clear();
    if let Some(window) = web_sys::window() {
        let _ = window.location().replace(&sign_in_url(&pathname()));
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
            MallScreen::Wallet(Tab::Usable),
            MallScreen::Wallet(Tab::Used),
            MallScreen::Wallet(Tab::Expired),
            MallScreen::Coupon(7),
            MallScreen::Claim(ClaimToken::parse("K7M2P9QRSTUVWXYZ").unwrap()),
            MallScreen::Profile,
            MallScreen::Tiers,
            MallScreen::Growth,
            MallScreen::Points,
            MallScreen::Inbox,
            MallScreen::Join,
            MallScreen::Invite,
        ] {
            assert_eq!(MallScreen::from_path(&s.path()), s);
        }
        assert_eq!(
            MallScreen::from_path("/coupons"),
            MallScreen::Wallet(Tab::Usable)
        );
        assert_eq!(
            MallScreen::from_path("/coupons/12/"),
            MallScreen::Coupon(12)
        );
        assert_eq!(MallScreen::from_path("/profile/"), MallScreen::Profile);
        assert!(matches!(
            MallScreen::from_path("/claim/bad%20token"),
            MallScreen::Claim(t) if t.as_str() == "none"
        ));
        assert_eq!(ClaimToken::parse("ab/c"), None);
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

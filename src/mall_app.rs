//! Root of the points-mall bundle, served under `/mall/`: items, redeeming, the order
//! code for pickup, and the member's orders; also the coupon wallet (`/coupons/`), claim
//! links (`/claim/{token}`) and the profile (`/profile`), which the server answers with
//! this bundle too. Its own bundle so the e-card's first load (which has a size budget)
//! does not carry it; the session is the member app's cookie.

use leptos::prelude::*;

use crate::i18n::I18n;
use crate::pages::history::HistoryPage;
use crate::pages::invite::InvitePage;
use crate::pages::join::JoinPage;
use crate::pages::mall::{item::ItemPage, list::ListPage, order::OrderPage, orders::OrdersPage};
use crate::pages::tiers::{benefits::BenefitsPage, growth::GrowthPage, inbox::InboxPage};
use crate::pages::wallet::{
    claim::ClaimPage, coupon::CouponPage, list::WalletPage, profile::ProfilePage,
};
use crate::screens::mall::{MallNav, MallScreen, MallState};

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
        MallScreen::Wallet(tab) => view! { <WalletPage tab=tab /> }.into_any(),
        MallScreen::Coupon(id) => view! { <CouponPage id=id /> }.into_any(),
        MallScreen::Claim(token) => view! { <ClaimPage token=token /> }.into_any(),
        MallScreen::Profile => view! { <ProfilePage /> }.into_any(),
        MallScreen::Tiers => view! { <BenefitsPage /> }.into_any(),
        MallScreen::Growth => view! { <GrowthPage /> }.into_any(),
        MallScreen::Points => view! { <HistoryPage /> }.into_any(),
        MallScreen::Inbox => view! { <InboxPage /> }.into_any(),
        MallScreen::Join => view! { <JoinPage /> }.into_any(),
        MallScreen::Invite => view! { <InvitePage /> }.into_any(),
    }
}

pub fn mount() {
    leptos::mount::mount_to_body(MallApp);
}

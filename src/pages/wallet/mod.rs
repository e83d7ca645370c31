//! The coupon wallet (`/coupons/`), one coupon (`/coupons/{id}`), claim links
//! (`/claim/{token}`) and the member's profile (`/profile`): screens of the mall bundle.

pub mod claim;
pub mod coupon;
pub mod list;
pub mod profile;

use leptos::prelude::*;
use member_core::dto::CouponBenefit;

use crate::components::lang_toggle::LangToggle;
use crate::i18n::{coupons, wallet::W, I18n};
use crate::nav::Link;
use crate::screens::mall::MallScreen;

/// The bar on top of these screens: back (to the card, which is the member app and so a
/// page load, or to a screen of this bundle), the title, the language toggle.
#[component]
pub fn WalletBar(title: W, back: Option<MallScreen>) -> impl IntoView {
    let i18n = I18n::get();
    let back = match back {
        Some(to) => view! {
            <Link to=to class="back-link">
                {move || format!("‹ {}", i18n.t(W::BackToWallet))}
            </Link>
        }
        .into_any(),
        None => view! {
            <a href="/" class="back-link" id="back-to-card">
                {move || format!("‹ {}", i18n.t(W::BackToCard))}
            </a>
        }
        .into_any(),
    };
    view! {
        <header class="brand-bar">
            {back}
            <h1 class="brand mall-title">{i18n.tr(title)}</h1>
            <LangToggle />
        </header>
    }
}

/// A coupon as a ticket: the benefit big on the stub (with its cap or gift and the
/// minimum spend), whatever the screen puts in the body beside it.
#[component]
pub fn Ticket(
    benefit: CouponBenefit,
    min_spend_cents: i64,
    /// Greyed: used, expired, void.
    #[prop(optional)]
    dim: bool,
    children: Children,
) -> impl IntoView {
    let i18n = I18n::get();
    let b = benefit.clone();
    let big = move || coupons::benefit_big(i18n.lang(), &b);
    let note = move || coupons::benefit_note(i18n.lang(), &benefit);
    let min = move || coupons::min_spend(i18n.lang(), min_spend_cents);
    view! {
        <div class=if dim { "ticket dim" } else { "ticket" }>
            <div class="ticket-stub">
                <div class="ticket-benefit">{big}</div>
                <div class="ticket-note">{note}</div>
                <div class="ticket-min">{min}</div>
            </div>
            <div class="ticket-body">{children()}</div>
        </div>
    }
}

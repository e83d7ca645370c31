//! What the till holds of the basket: the member's coupons as the server listed them
//! (for the amount typed), the ones ticked, and what they take off at the server's clock.
//! Shared by the coupon list, the totals and the purchase form.

use leptos::prelude::*;
use member_core::coupons::{Held, Quote, Refusal, Till};
use member_core::dto::CheckoutPreview;
use member_core::money::Cents;

use super::rules::{held_of, quote_for, toggle};
use crate::clock;

/// The coupon ids to send and the quote, for the basket typed.
pub(super) type LocalQuote = (Vec<i64>, Result<Quote, (i64, Refusal)>);

#[derive(Clone, Copy)]
pub(super) struct Basket {
    /// The amount as typed.
    pub(super) amount: RwSignal<String>,
    /// The server's answer (`/staff/checkout/preview`) and when it came (device time, to
    /// follow the server's clock from there).
    pub(super) checkout: RwSignal<Option<CheckoutPreview>>,
    pub(super) checkout_at: RwSignal<i64>,
    pub(super) ticked: RwSignal<Vec<i64>>,
    /// The amount in fen, once it reads as one.
    pub(super) cents: Memo<Option<i64>>,
    pub(super) wallet: Memo<Vec<Held>>,
    pub(super) quote: Memo<Option<LocalQuote>>,
}

impl Basket {
    pub(super) fn new() -> Self {
        let amount = RwSignal::new(String::new());
        let checkout = RwSignal::new(None::<CheckoutPreview>);
        let checkout_at = RwSignal::new(0_i64);
        let ticked = RwSignal::new(Vec::<i64>::new());
        let cents = Memo::new(move |_| Cents::parse_yuan(&amount.get()).ok().map(Cents::get));
        let wallet = Memo::new(move |_| {
            checkout.with(|c| c.as_ref().map(|c| held_of(&c.coupons)).unwrap_or_default())
        });
        let quote = Memo::new(move |_| {
            let basket = cents.get()?;
            let store = store_code(checkout);
            let till = Till {
                now: server_now(checkout, checkout_at),
                store_code: &store,
                basket_cents: basket,
            };
            let ticked = ticked.get();
            Some(wallet.with(|w| quote_for(w, &ticked, &till)))
        });
        Self {
            amount,
            checkout,
            checkout_at,
            ticked,
            cents,
            wallet,
            quote,
        }
    }

    pub(super) fn server_now(self) -> i64 {
        server_now(self.checkout, self.checkout_at)
    }

    pub(super) fn store_code(self) -> String {
        store_code(self.checkout)
    }

    /// Ticks or unticks a coupon, keeping only what may go together.
    pub(super) fn tick(self, id: i64) {
        let next = self
            .wallet
            .with_untracked(|w| self.ticked.with_untracked(|t| toggle(w, t, id)));
        self.ticked.set(next);
    }

    /// What the member pays: after the coupons when they apply, else the amount.
    pub(super) fn payable(self) -> Option<i64> {
        self.quote.with(|q| match q {
            Some((_, Ok(q))) => Some(q.payable_cents),
            Some((_, Err(_))) | None => self.cents.get(),
        })
    }

    /// A new customer: nothing typed, listed or ticked.
    pub(super) fn clear(self) {
        self.amount.set(String::new());
        self.checkout.set(None);
        self.ticked.set(Vec::new());
    }
}

/// The server's clock now, as far as the device can tell.
fn server_now(checkout: RwSignal<Option<CheckoutPreview>>, at: RwSignal<i64>) -> i64 {
    checkout
        .with(|c| c.as_ref().map(|c| c.server_unix))
        .unwrap_or(0)
        + clock::device_unix()
        - at.get()
}

fn store_code(checkout: RwSignal<Option<CheckoutPreview>>) -> String {
    checkout.with(|c| c.as_ref().map(|c| c.store_code.clone()).unwrap_or_default())
}

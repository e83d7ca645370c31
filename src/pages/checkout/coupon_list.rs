//! The member's coupons at the till, each with a checkbox; greyed with the reason when
//! this basket cannot use it. Rows are keyed by coupon and only their words and state
//! change when the amount, the ticks or a fresh preview do: a row redrawn under the
//! cashier's thumb would swallow the tap.

use leptos::prelude::*;
use member_core::coupons::Till;

use super::basket::Basket;
use super::rules::{row_shown, RowShown};
use crate::i18n::{staff::S, I18n};

#[component]
pub(super) fn CouponList(basket: Basket) -> impl IntoView {
    let i18n = I18n::get();
    let checkout = basket.checkout;
    let coupon_ids = Memo::new(move |_| {
        checkout.with(|c| {
            c.as_ref()
                .map(|c| c.coupons.iter().map(|c| c.coupon.id).collect::<Vec<_>>())
                .unwrap_or_default()
        })
    });
    let has_checkout = Memo::new(move |_| checkout.with(Option::is_some));
    let row = move |id: i64| {
        let shown = Memo::new(move |_| {
            let lang = i18n.lang();
            let store = basket.store_code();
            let till = Till {
                now: basket.server_now(),
                store_code: &store,
                basket_cents: basket.cents.get().unwrap_or(0),
            };
            let on = basket.ticked.with(|t| t.contains(&id));
            checkout.with(|c| {
                let c = c.as_ref()?.coupons.iter().find(|c| c.coupon.id == id)?;
                Some(row_shown(lang, c, &till, basket.cents.get().is_some(), on))
            })
        });
        let text = move |f: fn(&RowShown) -> String| {
            move || shown.with(|r| r.as_ref().map(f).unwrap_or_default())
        };
        view! {
            <li class=text(|r| r.class.clone()) data-coupon-id=id.to_string()>
                <label class="coupon-row">
                    <input
                        type="checkbox"
                        class="coupon-check"
                        prop:checked=move || shown.with(|r| r.as_ref().is_some_and(|r| r.on))
                        disabled=move || {
                            shown.with(|r| r.as_ref().is_some_and(|r| r.unusable && !r.on))
                        }
                        on:change=move |_| basket.tick(id)
                    />
                    <span class="cc-benefit">{text(|r| r.big.clone())}</span>
                    <span class="cc-body">
                        <span class="cc-name">{text(|r| r.name.clone())}</span>
                        <span class="cc-terms">
                            {move || {
                                shown.with(|r| {
                                    r.iter()
                                        .flat_map(|r| r.terms.clone())
                                        .map(|t| view! { <span>{t}</span> })
                                        .collect_view()
                                })
                            }}
                        </span>
                    </span>
                    {move || {
                        shown
                            .with(|r| r.as_ref().and_then(|r| r.reason.clone()))
                            .map(|r| view! { <span class="cc-reason">{r}</span> })
                    }}
                </label>
            </li>
        }
    };
    move || {
        has_checkout.get().then(|| {
            let empty = move || coupon_ids.with(Vec::is_empty);
            view! {
                <section class="checkout-coupons">
                    <div class="field-label">{i18n.t(S::Coupons)}</div>
                    <p class="subtle" hidden=move || !empty()>{i18n.t(S::NoCoupons)}</p>
                    <ul id="coupon-list" class="coupon-checks">
                        <For each=move || coupon_ids.get() key=|id| *id children=row />
                    </ul>
                </section>
            }
        })
    }
}

//! Under the coupons: 原价 / 优惠 / 应付 with the gifts to hand over, and what the purchase
//! will earn (points, growth, an upgrade) by the server's rules.

use leptos::prelude::*;
use member_core::dto::MemberSummary;
use member_core::money::Cents;
use member_core::tiers::TierRule;

use super::basket::Basket;
use super::rules::preview;
use crate::i18n::{errors, fill, staff::S, tier_name, I18n};

/// `¥12.30`; nothing for a negative amount.
pub(super) fn yuan(cents: i64) -> String {
    Cents::paid(cents)
        .map(Cents::to_yuan_string)
        .unwrap_or_default()
}

#[component]
pub(super) fn Totals(basket: Basket) -> impl IntoView {
    let i18n = I18n::get();
    move || {
        let (_, quote) = basket.quote.get()?;
        let lang = i18n.lang();
        let q = match quote {
            Ok(q) => q,
            Err((_, r)) => {
                let text = errors::mall_error_text(lang, r.code());
                return Some(view! { <p class="error">{text}</p> }.into_any());
            }
        };
        let gifts: Vec<String> = q.lines.iter().filter_map(|l| l.gift.clone()).collect();
        let gift_line = (!gifts.is_empty())
            .then(|| fill(i18n.t(S::HandOverGifts), &[("items", &gifts.join("、"))]));
        Some(
            view! {
                <dl id="checkout-totals" class="totals" aria-live="polite">
                    <div>
                        <dt>{i18n.t(S::Basket)}</dt>
                        <dd id="basket-amount">{yuan(q.basket_cents)}</dd>
                    </div>
                    <div class="discount">
                        <dt>{i18n.t(S::Discount)}</dt>
                        <dd id="discount-amount">{format!("-{}", yuan(q.discount_cents))}</dd>
                    </div>
                    <div class="payable">
                        <dt>{i18n.t(S::Payable)}</dt>
                        <dd id="payable-amount">{yuan(q.payable_cents)}</dd>
                    </div>
                </dl>
                {gift_line.map(|g| view! { <p class="gift-note">{g}</p> })}
            }
            .into_any(),
        )
    }
}

#[component]
pub(super) fn EarnPreview(
    basket: Basket,
    member: RwSignal<Option<MemberSummary>>,
    tier_rules: RwSignal<Vec<TierRule>>,
) -> impl IntoView {
    let i18n = I18n::get();
    move || {
        let pay = basket.payable()?;
        let rates = basket
            .checkout
            .with(|c| c.as_ref().map(|c| c.earn.clone()).unwrap_or_default());
        let p = tier_rules.with(|rules| {
            member.with(|m| m.as_ref().and_then(|m| preview(rules, m, pay, &rates)))
        })?;
        let lang = i18n.lang();
        let line = fill(
            i18n.t(S::PreviewPoints),
            &[("n", &p.points.to_string()), ("g", &p.growth.to_string())],
        );
        let upgrade = p.upgrade_to.map(|(code, name)| {
            fill(
                i18n.t(S::PreviewUpgrade),
                &[("tier", &tier_name(lang, &code, &name))],
            )
        });
        Some(view! {
            <div class="preview" aria-live="polite">
                <div>{line}</div>
                {upgrade.map(|u| view! { <div class="preview-upgrade">{u}</div> })}
            </div>
        })
    }
}

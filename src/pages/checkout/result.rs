//! What the till shows once the purchase is recorded: the upgrade, the gifts to hand
//! over, what the coupons took off, and the points and growth earned.

use leptos::prelude::*;
use member_core::dto::PurchaseResult;

use super::totals::yuan;
use crate::i18n::{fill, staff::S, tier_name, I18n};

#[component]
pub(super) fn PurchaseDone(result: RwSignal<Option<PurchaseResult>>) -> impl IntoView {
    let i18n = I18n::get();
    move || {
        let r = result.get()?;
        let lang = i18n.lang();
        let tier = tier_name(lang, &r.tier.code, &r.tier.name);
        let upgraded = r
            .upgraded
            .then(|| fill(i18n.t(S::Upgraded), &[("tier", &tier)]));
        let used = (!r.coupons_used.is_empty()).then(|| {
            let names: Vec<&str> = r.coupons_used.iter().map(|l| l.name.as_str()).collect();
            fill(i18n.t(S::CouponsUsed), &[("names", &names.join("、"))])
        });
        let gifts: Vec<&str> = r
            .coupons_used
            .iter()
            .filter_map(|l| l.gift.as_deref())
            .collect();
        let gifts = (!gifts.is_empty())
            .then(|| fill(i18n.t(S::HandOverGifts), &[("items", &gifts.join("、"))]));
        let pack = (!r.gift_pack.is_empty())
            .then(|| fill(i18n.t(S::GiftPack), &[("names", &r.gift_pack.join("、"))]));
        let discounted = r.discount_cents > 0;
        Some(view! {
            <section id="purchase-result" class="result" role="status">
                <h2>{i18n.t(S::ResultTitle)}</h2>
                {upgraded.map(|u| view! { <p class="upgrade-notice">{u}</p> })}
                {gifts.map(|g| view! { <p id="gift-items" class="gift-note big-gift">{g}</p> })}
                {pack.map(|p| view! { <p id="gift-pack" class="gift-pack">{p}</p> })}
                <dl class="result-grid" hidden=!discounted>
                    <div>
                        <dt>{i18n.t(S::Discount)}</dt>
                        <dd id="result-discount">{format!("-{}", yuan(r.discount_cents))}</dd>
                    </div>
                    <div>
                        <dt>{i18n.t(S::Paid)}</dt>
                        <dd id="result-payable" class="big">{yuan(r.payable_cents)}</dd>
                    </div>
                </dl>
                {used.map(|u| view! { <p id="result-coupons" class="subtle">{u}</p> })}
                <dl class="result-grid">
                    <div>
                        <dt>{i18n.t(S::PointsEarned)}</dt>
                        <dd id="points-earned" class="big">{format!("+{}", r.points_earned)}</dd>
                    </div>
                    <div>
                        <dt>{i18n.t(S::GrowthEarned)}</dt>
                        <dd>{format!("+{}", r.growth_earned)}</dd>
                    </div>
                    <div>
                        <dt>{i18n.t(S::NewBalance)}</dt>
                        <dd id="new-balance" class="big">{r.points}</dd>
                    </div>
                    <div>
                        <dt>{i18n.t(S::Tier)}</dt>
                        <dd>
                            <span class=format!("tier-badge tier-{}", r.tier.code)>{tier}</span>
                        </dd>
                    </div>
                </dl>
            </section>
        })
    }
}

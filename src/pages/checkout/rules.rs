//! The till's own arithmetic, with the server's rules (`member_core`): what a purchase
//! earns, which coupons may go together, what they take off, and how a coupon row reads.

use member_core::coupons::{self, Held, Quote, Refusal, Till};
use member_core::dto::{CheckoutCoupon, EarnRates, MemberSummary};
use member_core::money::Cents;
use member_core::tier_program;
use member_core::tiers::{self, TierRule};

use crate::i18n::{coupons as words, Lang};

/// Points, growth and the tier after the purchase, computed with the server's own rules.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Preview {
    pub(super) points: i64,
    pub(super) growth: i64,
    pub(super) upgrade_to: Option<(String, String)>,
}

/// `payable_cents`: what the member pays after coupons (points are earned on that);
/// `rates`: the member-day and birthday multipliers the server's preview reported (none
/// known yet: the tier's plain rate).
pub(super) fn preview(
    tiers: &[TierRule],
    member: &MemberSummary,
    payable_cents: i64,
    rates: &EarnRates,
) -> Option<Preview> {
    let pay = Cents::paid(payable_cents).ok()?.get();
    let current = tiers.iter().position(|t| t.code == member.tier.code)?;
    let (per_yuan, growth_pct) = if rates.growth_multiplier_pct > 0 {
        (rates.growth_per_yuan, rates.growth_multiplier_pct)
    } else {
        (tiers::GROWTH_PER_YUAN, 100)
    };
    let points = tier_program::points_at(
        pay,
        tiers[current].points_per_yuan_pct,
        &rates.points_multiplier_pcts,
    );
    let growth = tier_program::growth_at(pay, per_yuan, growth_pct);
    let reached = tiers::tier_index_for_growth(tiers, member.growth.saturating_add(growth));
    let upgrade_to = reached
        .filter(|r| *r > current)
        .and_then(|r| tiers.get(r))
        .map(|t| (t.code.clone(), t.name.clone()));
    Some(Preview {
        points,
        growth,
        upgrade_to,
    })
}

/// What one coupon row of the till shows.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct RowShown {
    pub(super) class: String,
    pub(super) on: bool,
    pub(super) unusable: bool,
    pub(super) big: String,
    pub(super) name: String,
    pub(super) terms: Vec<String>,
    pub(super) reason: Option<String>,
}

/// The row of coupon `c` for this basket (`typed`: an amount has been entered, so its
/// minimum spend is held against it), ticked or not.
pub(super) fn row_shown(
    lang: Lang,
    c: &CheckoutCoupon,
    till: &Till<'_>,
    typed: bool,
    on: bool,
) -> RowShown {
    let refusal = match c.coupon.to_held().as_ref().map(|h| coupons::check(h, till)) {
        Some(Ok(())) => None,
        Some(Err(Refusal::MinSpend { .. })) if !typed => None,
        Some(Err(r)) => Some(r.code().to_string()),
        None => Some(c.refusal.clone().unwrap_or_default()),
    };
    let reason = refusal
        .as_deref()
        .map(|code| words::refusal_text(lang, code, c.coupon.min_spend_cents));
    let unusable = reason.is_some();
    let mut class = "checkout-coupon".to_string();
    if unusable {
        class.push_str(" unusable");
    }
    if on {
        class.push_str(" ticked");
    }
    let terms = [
        Some(words::min_spend(lang, c.coupon.min_spend_cents)),
        words::benefit_note(lang, &c.coupon.benefit),
        Some(words::validity_text(
            lang,
            c.coupon.valid_from_ts,
            c.coupon.expires_ts,
            till.now,
        )),
    ]
    .into_iter()
    .flatten()
    .collect();
    RowShown {
        class,
        on,
        unusable,
        big: words::benefit_big(lang, &c.coupon.benefit),
        name: c.coupon.name.clone(),
        terms,
        reason,
    }
}

/// The member's coupons as the rules see them (a coupon the app cannot read is left out:
/// it cannot be offered).
pub(super) fn held_of(list: &[CheckoutCoupon]) -> Vec<Held> {
    list.iter().filter_map(|c| c.coupon.to_held()).collect()
}

/// Ticking `id`: a non-stackable coupon goes alone, a stackable one drops the
/// non-stackable ones and any other of its template; ticking a ticked one unticks it.
pub(super) fn toggle(wallet: &[Held], ticked: &[i64], id: i64) -> Vec<i64> {
    if ticked.contains(&id) {
        return ticked.iter().copied().filter(|t| *t != id).collect();
    }
    let Some(c) = wallet.iter().find(|c| c.id == id) else {
        return ticked.to_vec();
    };
    if !c.terms.stackable {
        return vec![id];
    }
    let mut out: Vec<i64> = ticked
        .iter()
        .copied()
        .filter(|t| {
            wallet
                .iter()
                .find(|o| o.id == *t)
                .is_some_and(|o| o.terms.stackable && o.template_id != c.template_id)
        })
        .collect();
    out.push(id);
    out
}

/// The ticked coupons that may be used for this basket (sorted: the purchase's
/// `coupon_ids`) and what they take off. A ticked coupon this basket does not allow
/// (below its minimum spend, say) stays ticked on screen with its reason, but is neither
/// counted nor sent.
pub(super) fn quote_for(
    wallet: &[Held],
    ticked: &[i64],
    till: &Till<'_>,
) -> (Vec<i64>, Result<Quote, (i64, Refusal)>) {
    let chosen: Vec<&Held> = wallet
        .iter()
        .filter(|c| ticked.contains(&c.id) && coupons::check(c, till).is_ok())
        .collect();
    let mut ids: Vec<i64> = chosen.iter().map(|c| c.id).collect();
    ids.sort_unstable();
    (ids, coupons::quote(&chosen, till))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn preview_uses_the_members_tier_rate_and_flags_upgrades() {
        let t = |code: &str, th, rate| TierRule {
            code: code.into(),
            name: code.to_uppercase(),
            growth_threshold: th,
            points_per_yuan_pct: rate,
        };
        let rules = vec![
            t("normal", 0, 100),
            t("silver", 500, 120),
            t("gold", 2000, 150),
        ];
        let member = MemberSummary {
            member_no: "8600012345".into(),
            name: "张三".into(),
            phone_masked: "138****5678".into(),
            tier: member_core::dto::TierRef {
                code: "silver".into(),
                name: "银卡".into(),
            },
            points: 0,
            growth: 1900,
        };
        let plain = EarnRates::default();
        let p = preview(&rules, &member, 10_050, &plain).unwrap();
        assert_eq!((p.points, p.growth), (120, 100));
        assert_eq!(p.upgrade_to, Some(("gold".into(), "GOLD".into())));
        let small = preview(&rules, &member, 1000, &plain).unwrap();
        assert_eq!(small.upgrade_to, None);
        // A purchase the coupons pay in full earns nothing.
        let free = preview(&rules, &member, 0, &plain).unwrap();
        assert_eq!((free.points, free.growth), (0, 0));
        assert!(preview(&rules, &member, -1, &plain).is_none());
        // On a member day (double points, 1.5 growth) the till says what the server will.
        let member_day = EarnRates {
            points_multiplier_pcts: vec![200],
            growth_per_yuan: 1,
            growth_multiplier_pct: 150,
        };
        let md = preview(&rules, &member, 10_050, &member_day).unwrap();
        assert_eq!((md.points, md.growth), (241, 150));
    }

    fn held(
        id: i64,
        template_id: i64,
        benefit: coupons::Benefit,
        min: i64,
        stackable: bool,
    ) -> Held {
        Held {
            id,
            template_id,
            terms: coupons::Terms {
                benefit,
                min_spend_cents: min,
                stackable,
                store_codes: vec![],
            },
            valid_from: 0,
            expires_at: 2_000_000_000,
            unused: true,
        }
    }

    fn off(cents: i64) -> coupons::Benefit {
        coupons::Benefit::AmountOff { off_cents: cents }
    }

    #[test]
    fn ticking_keeps_only_what_may_go_together() {
        let wallet = vec![
            held(1, 10, off(2000), 10_000, false),
            held(2, 20, off(500), 0, true),
            held(
                3,
                30,
                coupons::Benefit::PercentOff {
                    percent_off: 10,
                    cap_cents: None,
                },
                0,
                true,
            ),
            held(4, 20, off(500), 0, true),
        ];
        assert_eq!(toggle(&wallet, &[], 2), vec![2]);
        assert_eq!(toggle(&wallet, &[2], 3), vec![2, 3]);
        // A non-stackable one goes alone, and a stackable one drops it.
        assert_eq!(toggle(&wallet, &[2, 3], 1), vec![1]);
        assert_eq!(toggle(&wallet, &[1], 3), vec![3]);
        // One per template.
        assert_eq!(toggle(&wallet, &[2, 3], 4), vec![3, 4]);
        // Unticking.
        assert_eq!(toggle(&wallet, &[2, 3], 2), vec![3]);
        assert_eq!(toggle(&wallet, &[2], 99), vec![2]);
    }

    #[test]
    fn the_quote_counts_only_coupons_this_basket_allows() {
        let wallet = vec![
            held(1, 10, off(2000), 10_000, false),
            held(2, 20, off(500), 0, true),
            held(
                3,
                30,
                coupons::Benefit::PercentOff {
                    percent_off: 10,
                    cap_cents: None,
                },
                0,
                true,
            ),
        ];
        let till = |basket| Till {
            now: 1_800_000_000,
            store_code: "S001",
            basket_cents: basket,
        };
        let (ids, q) = quote_for(&wallet, &[1], &till(12_000));
        assert_eq!(ids, vec![1]);
        assert_eq!(q.unwrap().payable_cents, 10_000);
        // Below the minimum spend: not counted, not sent.
        let (ids, q) = quote_for(&wallet, &[1], &till(9_000));
        assert!(ids.is_empty());
        assert_eq!(q.unwrap().payable_cents, 9_000);
        // ¥5 off first, then 10 % of the rest: 100 - 5 = 95, - 9.50 = 85.50.
        let (ids, q) = quote_for(&wallet, &[3, 2], &till(10_000));
        assert_eq!(ids, vec![2, 3]);
        assert_eq!(q.unwrap().payable_cents, 8_550);
    }
}

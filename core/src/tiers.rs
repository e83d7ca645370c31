//! Tier rules: points and growth for a purchase, the tier a growth value reaches, and the
//! progress to the next tier. Tiers come from the database; this module only computes.
//!
//! Rounding: points and growth are floored (a member never gets a fraction of a point,
//! and 0.99 yuan earns no growth).

use crate::money::Cents;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierRule {
    pub code: String,
    pub name: String,
    /// Growth needed to reach the tier (the entry tier has 0).
    pub growth_threshold: i64,
    /// Points per yuan, in hundredths: 100 = 1 point per yuan, 150 = 1.5 points per yuan.
    pub points_per_yuan_pct: i64,
}

/// Growth per yuan spent (one growth value per whole yuan).
pub const GROWTH_PER_YUAN: i64 = 1;

/// Sorts tiers by threshold, the order every other function here expects.
pub fn sorted(mut tiers: Vec<TierRule>) -> Vec<TierRule> {
    tiers.sort_by_key(|t| t.growth_threshold);
    tiers
}

/// Points a purchase earns at the member's current tier.
pub fn points_for_purchase(amount: Cents, tier: &TierRule) -> i64 {
    let rate = tier.points_per_yuan_pct.max(0);
    // amount <= 1e8 and a sane rate keep this in range; i128 keeps an insane rate from
    // wrapping, and the clamp keeps it from overflowing the column.
    let points = i128::from(amount.get()) * i128::from(rate) / 10_000;
    i64::try_from(points).unwrap_or(i64::MAX)
}

/// Growth a purchase earns.
pub fn growth_for_purchase(amount: Cents) -> i64 {
    amount.get() / 100 * GROWTH_PER_YUAN
}

/// Index of the highest tier whose threshold `growth` meets (tiers sorted by threshold).
pub fn tier_index_for_growth(tiers: &[TierRule], growth: i64) -> Option<usize> {
    tiers.iter().rposition(|t| growth >= t.growth_threshold)
}

/// The next tier above the current one and how much growth is still missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextTier<'a> {
    pub tier: &'a TierRule,
    pub growth_needed: i64,
}

pub fn next_tier<'a>(
    tiers: &'a [TierRule],
    current_code: &str,
    growth: i64,
) -> Option<NextTier<'a>> {
    let current = tiers.iter().position(|t| t.code == current_code);
    let start = current.map_or(0, |i| i + 1);
    tiers[start.min(tiers.len())..]
        .iter()
        .find(|t| t.growth_threshold > growth)
        .map(|tier| NextTier {
            tier,
            growth_needed: tier.growth_threshold - growth,
        })
}

/// Progress from the current tier's threshold towards the next, in per mille (0..=1000),
/// so the card's progress bar and the server agree without floats.
pub fn progress_permille(tiers: &[TierRule], current_code: &str, growth: i64) -> i64 {
    let Some(next) = next_tier(tiers, current_code, growth) else {
        return 1000;
    };
    let floor = tiers
        .iter()
        .find(|t| t.code == current_code)
        .map_or(0, |t| t.growth_threshold)
        .min(growth);
    let span = next.tier.growth_threshold - floor;
    if span <= 0 {
        return 1000;
    }
    ((growth - floor).clamp(0, span) * 1000 / span).clamp(0, 1000)
}

/// What one purchase does to a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchaseOutcome {
    pub points_earned: i64,
    pub growth_earned: i64,
    pub growth_after: i64,
    /// The member's tier after the purchase (never lower than before: upgrades are
    /// immediate, downgrades only happen at evaluation).
    pub tier_code: String,
    pub upgraded: bool,
}

/// Applies a purchase: points at the tier held when buying, growth per yuan, and an
/// immediate upgrade to the highest tier the new growth reaches.
pub fn apply_purchase(
    tiers: &[TierRule],
    current_code: &str,
    growth_before: i64,
    amount: Cents,
) -> PurchaseOutcome {
    let current_idx = tiers.iter().position(|t| t.code == current_code);
    let points_earned = current_idx
        .or_else(|| tier_index_for_growth(tiers, growth_before))
        .and_then(|i| tiers.get(i))
        .map_or(0, |t| points_for_purchase(amount, t));
    let growth_earned = growth_for_purchase(amount);
    let growth_after = growth_before.saturating_add(growth_earned);
    let reached = tier_index_for_growth(tiers, growth_after);
    let new_idx = match (current_idx, reached) {
        (Some(c), Some(r)) => Some(c.max(r)),
        (c, r) => c.or(r),
    };
    let tier_code = new_idx
        .and_then(|i| tiers.get(i))
        .map_or_else(|| current_code.to_string(), |t| t.code.clone());
    PurchaseOutcome {
        points_earned,
        growth_earned,
        growth_after,
        upgraded: matches!((current_idx, new_idx), (Some(c), Some(n)) if n > c),
        tier_code,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;

    fn program() -> Vec<TierRule> {
        let t = |code: &str, name: &str, th, rate| TierRule {
            code: code.into(),
            name: name.into(),
            growth_threshold: th,
            points_per_yuan_pct: rate,
        };
        sorted(vec![
            t("gold", "金卡", 2000, 150),
            t("normal", "普卡", 0, 100),
            t("silver", "银卡", 500, 120),
            t("diamond", "钻石卡", 8000, 200),
        ])
    }

    fn cents(v: i64) -> Cents {
        Cents::purchase(v).unwrap()
    }

    #[test]
    fn earns_at_the_current_tier_rate() {
        let tiers = program();
        let o = apply_purchase(&tiers, "silver", 600, cents(10_050));
        assert_eq!(o.points_earned, 120); // 100.50 yuan * 1.2, floored
        assert_eq!(o.growth_earned, 100);
        assert_eq!(o.tier_code, "silver");
        assert!(!o.upgraded);
    }

    #[test]
    fn upgrades_at_once_and_can_skip_tiers() {
        let tiers = program();
        let o = apply_purchase(&tiers, "normal", 0, cents(300_000));
        assert_eq!(o.tier_code, "gold");
        assert!(o.upgraded);
        assert_eq!(o.points_earned, 3000);
    }

    #[test]
    fn next_tier_and_progress() {
        let tiers = program();
        let n = next_tier(&tiers, "normal", 120).unwrap();
        assert_eq!((n.tier.code.as_str(), n.growth_needed), ("silver", 380));
        assert_eq!(progress_permille(&tiers, "normal", 250), 500);
        assert!(next_tier(&tiers, "diamond", 9000).is_none());
        assert_eq!(progress_permille(&tiers, "diamond", 9000), 1000);
    }

    proptest! {
        #[test]
        fn upgrade_is_never_skipped_and_never_downgrades(
            start in 0usize..4, growth in 0i64..20_000, amount in 1i64..5_000_000
        ) {
            let tiers = program();
            let code = tiers[start].code.clone();
            let o = apply_purchase(&tiers, &code, growth, cents(amount));
            let new_idx = tiers.iter().position(|t| t.code == o.tier_code).unwrap();
            prop_assert!(new_idx >= start);
            prop_assert!(new_idx >= tier_index_for_growth(&tiers, o.growth_after).unwrap());
            prop_assert_eq!(o.upgraded, new_idx > start);
            prop_assert!(o.points_earned >= 0 && o.growth_earned >= 0);
        }

        #[test]
        fn growth_needed_is_positive_and_exact(start in 0usize..4, growth in 0i64..20_000) {
            let tiers = program();
            if let Some(n) = next_tier(&tiers, &tiers[start].code, growth) {
                prop_assert!(n.growth_needed > 0);
                prop_assert_eq!(growth + n.growth_needed, n.tier.growth_threshold);
            }
            let p = progress_permille(&tiers, &tiers[start].code, growth);
            prop_assert!((0..=1000).contains(&p));
        }
    }
}

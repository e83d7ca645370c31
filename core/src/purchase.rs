//! A purchase's plan: from the member as the till's transaction loaded them, the program
//! in effect and what was paid, everything recording the purchase changes — the points
//! and growth earned, the first-purchase task, the upgrade and its points, the refund
//! debt the credit pays off and the balance after. The server loads, asks `plan`, and
//! writes what it says in one transaction; nothing here reads or writes.

use crate::coupons::Birthday;
use crate::dto::TierProgram;
use crate::money::Cents;
use crate::points;
use crate::tier_program::{self as rules, Earned, Standing, Task, Upgrade};

/// The member as the purchase's transaction read them (under the member lock).
#[derive(Debug, Clone)]
pub struct Member<'a> {
    pub tier_code: &'a str,
    /// Growth and spend in the current window.
    pub growth: i64,
    pub window_spend_cents: i64,
    pub points: i64,
    /// Points refunds could not take back, paid off from the next credits.
    pub points_debt: i64,
    pub birthday: Option<Birthday>,
    /// No purchase recorded before this one.
    pub first_purchase: bool,
}

/// What the till sends, after the coupons were quoted.
#[derive(Debug, Clone, Copy)]
pub struct Basket {
    pub amount: Cents,
    /// What the coupons took off (0 without coupons).
    pub discount_cents: i64,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchasePlan {
    /// What was paid: the basket less the discount; points and growth are earned on it.
    pub payable: Cents,
    /// The member's tier before (its index in the program).
    pub from: usize,
    pub earned: Earned,
    /// The first purchase's task growth (0 on later purchases, or when the program gives
    /// none); it counts for the upgrade together with the purchase.
    pub task_growth: i64,
    /// Window growth and spend with this purchase.
    pub after: Standing,
    pub upgrade: Option<Upgrade>,
    /// The tier after (`from` without an upgrade).
    pub tier: usize,
    pub tier_code: String,
    pub tier_name: String,
    /// Refund debt paid off from the points earned.
    pub settled: i64,
    /// The balance after: the points before, the points earned less the debt settled, and
    /// the upgrade's points (referral rewards released by the purchase come on top).
    pub points_after: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanError {
    /// The coupons took off more than the basket (the quote must never allow it).
    DiscountOverBasket,
}

/// Decides what recording the purchase changes.
pub fn plan(
    program: &TierProgram,
    member: &Member<'_>,
    basket: Basket,
) -> Result<PurchasePlan, PlanError> {
    let payable = Cents::paid(basket.amount.get() - basket.discount_cents)
        .map_err(|_| PlanError::DiscountOverBasket)?;
    // A tier code the program no longer has counts as the tier the standing reaches.
    let from = rules::index_of(program, member.tier_code)
        .unwrap_or_else(|| rules::reached(program, Standing::default()));
    let earned = rules::earn(program, from, payable, basket.at, member.birthday);
    let first_purchase_growth = Task::FirstPurchase.growth(program);
    let task_growth = if member.first_purchase && first_purchase_growth > 0 {
        first_purchase_growth
    } else {
        0
    };
    let after = Standing {
        growth: member
            .growth
            .saturating_add(earned.growth.saturating_add(task_growth)),
        spend_cents: member.window_spend_cents.saturating_add(payable.get()),
    };
    let upgrade = rules::upgrade(program, from, after);
    let tier = upgrade.as_ref().map_or(from, |u| u.to);
    let (tier_code, tier_name) = match program.tiers.get(tier) {
        Some(t) => (t.code.clone(), t.name.clone()),
        None => (member.tier_code.to_string(), member.tier_code.to_string()),
    };
    let settled = points::settled_from(member.points_debt, earned.points);
    let upgrade_points = upgrade.as_ref().map_or(0, |u| u.upgrade_points);
    let points_after = member
        .points
        .saturating_add(earned.points - settled)
        .saturating_add(upgrade_points);
    Ok(PurchasePlan {
        payable,
        from,
        earned,
        task_growth,
        after,
        upgrade,
        tier,
        tier_code,
        tier_name,
        settled,
        points_after,
    })
}

impl PurchasePlan {
    pub fn upgrade_points(&self) -> i64 {
        self.upgrade.as_ref().map_or(0, |u| u.upgrade_points)
    }

    /// The codes of the tiers the upgrade passed, lowest first (each may give its gift).
    pub fn passed_codes(&self, program: &TierProgram) -> Vec<String> {
        self.upgrade
            .iter()
            .flat_map(|u| &u.passed)
            .filter_map(|&i| program.tiers.get(i).map(|t| t.code.clone()))
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::dto::{DowngradeRules, GrowthRules, TierDef};
    use proptest::prelude::*;

    fn tier(code: &str, growth: i64, rate: i64, upgrade_points: i64) -> TierDef {
        TierDef {
            code: code.into(),
            name: code.to_uppercase(),
            color: String::new(),
            icon: String::new(),
            growth_threshold: growth,
            spend_threshold_cents: None,
            points_per_yuan_pct: rate,
            benefits: Vec::new(),
            upgrade_points,
        }
    }

    fn program(first_purchase: i64) -> TierProgram {
        TierProgram {
            tiers: vec![
                tier("normal", 0, 100, 0),
                tier("silver", 500, 120, 100),
                tier("gold", 2000, 150, 300),
            ],
            growth: GrowthRules {
                first_purchase,
                ..GrowthRules::default()
            },
            downgrade: DowngradeRules::default(),
            member_day: None,
        }
    }

    fn member(tier_code: &str, growth: i64, points: i64, debt: i64, first: bool) -> Member<'_> {
        Member {
            tier_code,
            growth,
            window_spend_cents: 0,
            points,
            points_debt: debt,
            birthday: None,
            first_purchase: first,
        }
    }

    fn basket(amount: i64, discount: i64) -> Basket {
        Basket {
            amount: Cents::purchase(amount).unwrap(),
            discount_cents: discount,
            at: 1_780_000_000,
        }
    }

    #[test]
    fn an_upgrading_first_purchase_counts_its_task_growth_and_gives_the_tiers_points() {
        let p = program(50);
        // 450 growth from ¥450, plus 50 for the first purchase: silver at 500.
        let plan = plan(&p, &member("normal", 0, 0, 0, true), basket(45_000, 0)).unwrap();
        assert_eq!(plan.earned.points, 450);
        assert_eq!(plan.task_growth, 50);
        assert_eq!(plan.after.growth, 500);
        assert_eq!((plan.from, plan.tier), (0, 1));
        assert_eq!(plan.tier_code, "silver");
        assert_eq!(plan.passed_codes(&p), vec!["silver".to_string()]);
        assert_eq!(plan.points_after, 450 + 100);
        // The same basket later in the member's life: no task growth, no upgrade.
        let later = super::plan(&p, &member("normal", 0, 0, 0, false), basket(45_000, 0));
        let later = later.unwrap();
        assert_eq!((later.task_growth, later.tier), (0, 0));
    }

    #[test]
    fn points_are_earned_on_what_was_paid_and_pay_off_refund_debt_first() {
        let p = program(0);
        let plan = plan(
            &p,
            &member("normal", 0, 10, 30, false),
            basket(10_000, 2_000),
        )
        .unwrap();
        assert_eq!(plan.payable.get(), 8_000);
        assert_eq!(plan.earned.points, 80);
        assert_eq!(plan.settled, 30);
        assert_eq!(plan.points_after, 10 + 80 - 30);
    }

    #[test]
    fn a_discount_over_the_basket_is_refused() {
        let p = program(0);
        let refused = plan(&p, &member("normal", 0, 0, 0, false), basket(1_000, 1_001));
        assert_eq!(refused, Err(PlanError::DiscountOverBasket));
    }

    proptest! {
        #[test]
        fn plans_keep_the_invariants(
            tier_index in 0usize..3,
            growth in 0i64..5_000,
            points in 0i64..100_000,
            debt in 0i64..5_000,
            amount in 1i64..10_000_000,
            discount_pct in 0i64..=100,
            first in any::<bool>(),
            first_growth in 0i64..200,
        ) {
            let p = program(first_growth);
            let code = p.tiers[tier_index].code.clone();
            let m = member(&code, growth, points, debt, first);
            let discount = amount * discount_pct / 100;
            let plan = plan(&p, &m, basket(amount, discount)).unwrap();
            // The balance never goes negative and moves by exactly what the plan names.
            prop_assert!(plan.points_after >= 0);
            prop_assert_eq!(
                plan.points_after,
                points + plan.earned.points - plan.settled + plan.upgrade_points()
            );
            // Debt is paid only from what was earned, never more than is owed.
            prop_assert!(plan.settled >= 0);
            prop_assert!(plan.settled <= debt.min(plan.earned.points.max(0)));
            // Growth adds up; the tier never drops; an upgrade is exactly a higher tier.
            prop_assert_eq!(plan.after.growth, growth + plan.earned.growth + plan.task_growth);
            prop_assert!(plan.tier >= plan.from);
            prop_assert_eq!(plan.upgrade.is_some(), plan.tier > plan.from);
            prop_assert_eq!(plan.tier_code.as_str(), p.tiers[plan.tier].code.as_str());
            // The task's growth comes once: on the first purchase only.
            prop_assert!(first || plan.task_growth == 0);
            prop_assert_eq!(plan.payable.get(), amount - discount);
        }
    }
}

//! A refund's plan: from the purchase and the member's account as the refund's
//! transaction loaded them (purchase and member locked), what the refund changes — the
//! fen refunded, its share of the points and growth the purchase earned, which due
//! batches expire on the way, which batches give the points back, the shortfall the
//! member already spent, the coupons that go back and the balance after. The server
//! loads, asks `plan`, and writes what it says in one transaction.
//!
//! Shares follow `points::refund_share`, so the parts of any split add up to exactly what
//! a single full refund takes. Points come back from the purchase's own batch first,
//! then soonest expiry first, never below zero: what the member spent meanwhile is the
//! shortfall (the next credits pay it off). The tier stays; coupons go back only when a
//! refund on the purchase's own local day completes a full refund.

use crate::points::{self, Batch, Debit};

/// The purchase as the refund read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purchase {
    /// What the member paid (the basket less its discount).
    pub paid_cents: i64,
    /// Refunded so far by earlier parts.
    pub refunded_cents: i64,
    /// A refund already completed it.
    pub closed: bool,
    pub points_earned: i64,
    pub growth_earned: i64,
    /// Coupons the purchase used (still marked used by it).
    pub coupons_used: i64,
    /// The refund happens on the purchase's own local day.
    pub same_day: bool,
}

/// The member's account under the lock.
#[derive(Debug, Clone, Copy)]
pub struct Account<'a> {
    /// `members.points`.
    pub balance: i64,
    pub growth: i64,
    /// The open batches (remaining > 0).
    pub batches: &'a [Batch],
    /// The batch the purchase's points went into (none when it earned nothing).
    pub own: Option<i64>,
    /// Points earlier expiry runs already took from the own batch (≥ 0).
    pub own_expired_before: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Nothing is left to refund.
    AlreadyRefunded,
    /// More than what is left was asked for.
    TooLarge { left: i64 },
    /// A part of zero fen or less (the request's validation refuses it first).
    NotPositive,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundPlan {
    /// Fen this refund returns.
    pub part: i64,
    pub paid: i64,
    /// Fen refunded before this one.
    pub before: i64,
    /// This refund returns all that was left.
    pub full: bool,
    /// This part's share of the purchase's points and growth.
    pub points_share: i64,
    /// The purchase's points left for refunds still to come.
    pub points_later: i64,
    pub growth_share: i64,
    /// Growth taken back: the share, never below the member's zero.
    pub growth_back: i64,
    /// Due batches (any) expire; `taken` comes back from the own batch first.
    pub debit: Debit,
    /// The own batch's points that expired: gone already, not taken again elsewhere.
    pub expired_own: i64,
    pub taken: i64,
    /// Earned points the member had spent and no longer has.
    pub shortfall: i64,
    pub coupons_restored: i64,
    pub points_after: i64,
}

/// Decides what refunding `amount` fen (`None`: all that is left) changes.
pub fn plan(
    purchase: Purchase,
    amount: Option<i64>,
    account: Account<'_>,
    now: i64,
) -> Result<RefundPlan, Refusal> {
    let paid = purchase.paid_cents.max(0);
    let before = purchase.refunded_cents.clamp(0, paid);
    let left = paid - before;
    if purchase.closed || (left == 0 && before > 0) {
        return Err(Refusal::AlreadyRefunded);
    }
    let part = amount.unwrap_or(left);
    if amount.is_some_and(|a| a <= 0) {
        return Err(Refusal::NotPositive);
    }
    if part > left {
        return Err(Refusal::TooLarge { left });
    }
    let full = part == left;
    let earned = purchase.points_earned;
    let points_share = points::refund_share(earned, paid, before, part);
    let points_later = points::refund_share(earned, paid, before + part, left - part);
    let growth_share = points::refund_share(purchase.growth_earned, paid, before, part);

    let spendable = points::spendable(account.batches, now);
    // What expired of the own batch are points no refund took back yet: they count
    // against the last parts, so the parts together take what one full refund would.
    let expired_own = account.own.map_or(0, |own| {
        let now_due: i64 = account
            .batches
            .iter()
            .filter(|b| b.id == own && b.is_due(now))
            .map(|b| b.remaining)
            .sum();
        (now_due + account.own_expired_before - points_later.max(0)).clamp(0, points_share.max(0))
    });
    let (taken, shortfall) = points::clawback(spendable, points_share - expired_own);
    // `taken` never passes what is spendable, so the debit always covers it.
    let debit = points::debit(account.batches, taken, now, account.own).unwrap_or_default();
    Ok(RefundPlan {
        part,
        paid,
        before,
        full,
        points_share,
        points_later,
        growth_share,
        growth_back: growth_share.clamp(0, account.growth.max(0)),
        points_after: account.balance - debit.expired - taken,
        debit,
        expired_own,
        taken,
        shortfall,
        coupons_restored: if full && purchase.same_day {
            purchase.coupons_used
        } else {
            0
        },
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NOW: i64 = 1_780_000_000;

    fn purchase(paid: i64, earned: i64) -> Purchase {
        Purchase {
            paid_cents: paid,
            refunded_cents: 0,
            closed: false,
            points_earned: earned,
            growth_earned: earned,
            coupons_used: 1,
            same_day: true,
        }
    }

    fn batch(id: i64, remaining: i64, expires_at: Option<i64>) -> Batch {
        Batch {
            id,
            remaining,
            expires_at,
        }
    }

    fn account(batches: &[Batch], own: Option<i64>) -> Account<'_> {
        Account {
            balance: batches.iter().map(|b| b.remaining).sum(),
            growth: 10_000,
            batches,
            own,
            own_expired_before: 0,
        }
    }

    #[test]
    fn a_full_refund_takes_back_the_own_batch_and_returns_the_coupons() {
        let batches = [batch(1, 50, None), batch(2, 100, Some(NOW + 86_400))];
        let plan = plan(purchase(10_000, 100), None, account(&batches, Some(2)), NOW).unwrap();
        assert!(plan.full);
        assert_eq!(
            (plan.part, plan.points_share, plan.taken),
            (10_000, 100, 100)
        );
        assert_eq!(plan.debit.takes, vec![(2, 100)]);
        assert_eq!((plan.shortfall, plan.points_after), (0, 50));
        assert_eq!(plan.coupons_restored, 1);
    }

    #[test]
    fn spent_points_become_the_shortfall_and_the_balance_stays_at_zero() {
        let batches = [batch(1, 30, None)];
        let plan = plan(purchase(10_000, 100), None, account(&batches, None), NOW).unwrap();
        assert_eq!((plan.taken, plan.shortfall, plan.points_after), (30, 70, 0));
    }

    #[test]
    fn a_part_refund_keeps_the_coupons_and_a_later_day_never_returns_them() {
        let batches = [batch(1, 100, None)];
        let part = plan(
            purchase(10_000, 100),
            Some(4_000),
            account(&batches, Some(1)),
            NOW,
        );
        let part = part.unwrap();
        assert!(!part.full);
        assert_eq!((part.points_share, part.points_later), (40, 60));
        assert_eq!(part.coupons_restored, 0);
        let later = Purchase {
            same_day: false,
            ..purchase(10_000, 100)
        };
        let full = plan(later, None, account(&batches, Some(1)), NOW).unwrap();
        assert_eq!(full.coupons_restored, 0);
    }

    #[test]
    fn refusals_name_what_is_left() {
        let batches = [];
        let acc = account(&batches, None);
        assert_eq!(
            plan(purchase(10_000, 100), Some(10_001), acc, NOW),
            Err(Refusal::TooLarge { left: 10_000 })
        );
        let done = Purchase {
            refunded_cents: 10_000,
            ..purchase(10_000, 100)
        };
        assert_eq!(plan(done, None, acc, NOW), Err(Refusal::AlreadyRefunded));
        assert_eq!(
            plan(purchase(10_000, 100), Some(0), acc, NOW),
            Err(Refusal::NotPositive)
        );
        let closed = Purchase {
            closed: true,
            ..purchase(10_000, 100)
        };
        assert_eq!(
            plan(closed, Some(1), acc, NOW),
            Err(Refusal::AlreadyRefunded)
        );
    }

    #[test]
    fn an_expired_own_batch_is_not_taken_again_from_the_others() {
        // The purchase's 100 points expired (due now); 80 more are in another batch.
        let batches = [batch(1, 80, None), batch(2, 100, Some(NOW - 1))];
        let plan = plan(purchase(10_000, 100), None, account(&batches, Some(2)), NOW).unwrap();
        assert_eq!((plan.debit.expired, plan.expired_own), (100, 100));
        assert_eq!((plan.taken, plan.shortfall), (0, 0));
        assert_eq!(plan.points_after, 80);
    }

    fn batches() -> impl Strategy<Value = Vec<Batch>> {
        prop::collection::vec(
            (1i64..500, prop::option::of(-3i64..3))
                .prop_map(|(remaining, days)| (remaining, days.map(|d| NOW + d * 86_400))),
            0..5,
        )
        .prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (remaining, expires_at))| batch(i as i64 + 1, remaining, expires_at))
                .collect()
        })
    }

    proptest! {
        /// Whatever the split, the parts' shares add up to exactly what the purchase
        /// earned, each part's taken + shortfall + expired own is its share, the
        /// balance never goes below zero and falls by exactly what expired and was taken.
        #[test]
        fn parts_add_up_and_never_go_below_zero(
            paid in 1i64..100_000,
            earned in 0i64..1_000,
            cuts in prop::collection::vec(1i64..100_000, 0..4),
            start in batches(),
            own_pick in prop::option::of(0usize..5),
        ) {
            let own = own_pick.and_then(|i| start.get(i)).map(|b| b.id);
            let whole = plan(
                purchase(paid, earned),
                None,
                Account { balance: start.iter().map(|b| b.remaining).sum(), growth: 1_000_000, batches: &start, own, own_expired_before: 0 },
                NOW,
            ).unwrap();
            let mut p = purchase(paid, earned);
            let mut batches = start;
            let mut balance: i64 = batches.iter().map(|b| b.remaining).sum();
            let mut own_expired_before = 0;
            let (mut points, mut growth, mut back) = (0, 0, 0);
            let mut cuts: Vec<i64> = cuts.into_iter().map(|c| c % paid).filter(|c| *c > 0).collect();
            cuts.sort_unstable();
            cuts.dedup();
            let mut at = 0;
            let mut parts: Vec<Option<i64>> =
                cuts.iter().map(|c| { let part = c - at; at = *c; Some(part) }).collect();
            parts.push(None);
            for part in parts {
                let acc = Account { balance, growth: 1_000_000, batches: &batches, own, own_expired_before };
                let plan = plan(p, part, acc, NOW).unwrap();
                prop_assert_eq!(plan.taken + plan.shortfall + plan.expired_own, plan.points_share);
                prop_assert!(plan.points_after >= 0);
                prop_assert_eq!(plan.points_after, balance - plan.debit.expired - plan.taken);
                prop_assert_eq!(plan.debit.takes.iter().map(|t| t.1).sum::<i64>(), plan.taken);
                points += plan.points_share;
                growth += plan.growth_share;
                back += plan.taken + plan.shortfall;
                // Apply the plan as the server would: due batches emptied (an expiry
                // row for the own batch counts next time), takes taken.
                for b in &mut batches {
                    if plan.debit.due.iter().any(|d| d.id == b.id) {
                        if Some(b.id) == own { own_expired_before += b.remaining; }
                        b.remaining = 0;
                    }
                    if let Some((_, t)) = plan.debit.takes.iter().find(|t| t.0 == b.id) { b.remaining -= t; }
                    prop_assert!(b.remaining >= 0);
                }
                balance = plan.points_after;
                p.refunded_cents += plan.part;
                if plan.full { p.closed = true; }
            }
            prop_assert_eq!(points, earned);
            prop_assert_eq!(growth, earned);
            // The parts together take back (or owe) what one full refund would.
            prop_assert_eq!(back, whole.taken + whole.shortfall);
            let done = Account { balance, growth: 0, batches: &batches, own: None, own_expired_before: 0 };
            prop_assert!(plan(p, None, done, NOW).is_err());
        }
    }
}

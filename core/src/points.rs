//! Points as batches: when earned points expire, which batches a spend takes (oldest
//! expiry first), and what a refund can claw back.
//!
//! A batch with `expires_at = Some(t)` can be spent while `now < t`; at `t` it expires.
//! Expiry instants are local midnights (Asia/Shanghai), so "valid until 12月31日" means
//! gone at 2027-01-01 00:00 local time.

use crate::civil::{self, Date, DAY_SECS};

/// The program's expiry rule for newly earned points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryRule {
    /// Points never expire.
    Never,
    /// Valid through the local day `n` days after the day earned.
    Days(u32),
    /// Valid through the last day of the `n`th month after the month earned
    /// (0 = the end of the month earned).
    MonthEnd(u32),
    /// Valid through 31 December of the year earned + `n` (0 = this year's end).
    YearEnd(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleError {
    UnknownKind,
    OutOfRange,
}

/// Upper bounds that keep a rule sensible (and the arithmetic far from overflow).
pub const MAX_DAYS: u32 = 3660;
pub const MAX_MONTHS: u32 = 120;
pub const MAX_YEARS: u32 = 10;

impl ExpiryRule {
    /// From the stored / wire form: `kind` is `never`, `days`, `month_end` or `year_end`.
    pub fn from_parts(kind: &str, n: i64) -> Result<Self, RuleError> {
        let n = u32::try_from(n).map_err(|_| RuleError::OutOfRange)?;
        let rule = match kind {
            "never" => Self::Never,
            "days" if (1..=MAX_DAYS).contains(&n) => Self::Days(n),
            "month_end" if n <= MAX_MONTHS => Self::MonthEnd(n),
            "year_end" if n <= MAX_YEARS => Self::YearEnd(n),
            "days" | "month_end" | "year_end" => return Err(RuleError::OutOfRange),
            _ => return Err(RuleError::UnknownKind),
        };
        Ok(rule)
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Self::Never => "never",
            Self::Days(_) => "days",
            Self::MonthEnd(_) => "month_end",
            Self::YearEnd(_) => "year_end",
        }
    }

    pub fn n(&self) -> i64 {
        match self {
            Self::Never => 0,
            Self::Days(n) | Self::MonthEnd(n) | Self::YearEnd(n) => i64::from(*n),
        }
    }

    /// The instant points earned at `earned_at` expire (`None`: never).
    pub fn expires_at(&self, earned_at: i64) -> Option<i64> {
        let earned = civil::local_date(earned_at);
        let first_day_gone = match *self {
            Self::Never => return None,
            Self::Days(n) => {
                civil::date_from_days(civil::days_from_date(earned) + i64::from(n) + 1)
            }
            Self::MonthEnd(n) => civil::first_of_month_after(earned, i64::from(n) + 1),
            Self::YearEnd(n) => Date {
                year: earned.year + i64::from(n) + 1,
                month: 1,
                day: 1,
            },
        };
        Some(civil::local_midnight(first_day_gone))
    }
}

/// The last local day on which points expiring at `expires_at` can still be spent.
pub fn last_valid_day(expires_at: i64) -> Date {
    civil::local_date(expires_at - 1)
}

/// What a points ledger row records (`points_ledger.kind`; the schema's CHECK lists the
/// same words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerKind {
    /// A purchase's points, an upgrade's points.
    Earn,
    /// A mall order's points.
    Redeem,
    /// A due batch's rest.
    Expire,
    /// A hand-made change by staff or an admin.
    Adjust,
    /// A purchase's refund, a refund debt settled, an order's points given back.
    Refund,
    /// A friend's or a referrer's reward.
    Referral,
    /// The balance a legacy import brought.
    Import,
}

impl LedgerKind {
    pub const ALL: [LedgerKind; 7] = [
        Self::Earn,
        Self::Redeem,
        Self::Expire,
        Self::Adjust,
        Self::Refund,
        Self::Referral,
        Self::Import,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Earn => "earn",
            Self::Redeem => "redeem",
            Self::Expire => "expire",
            Self::Adjust => "adjust",
            Self::Refund => "refund",
            Self::Referral => "referral",
            Self::Import => "import",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batch {
    pub id: i64,
    pub remaining: i64,
    pub expires_at: Option<i64>,
}

impl Batch {
    pub fn spendable(&self, now: i64) -> bool {
        self.remaining > 0 && self.expires_at.is_none_or(|t| now < t)
    }

    /// Points left in a batch whose expiry has come: gone for spending, whether or not
    /// the expiry job has reached it yet.
    pub fn is_due(&self, now: i64) -> bool {
        self.remaining > 0 && self.expires_at.is_some_and(|at| at <= now)
    }
}

/// The order batches are spent in: soonest expiry first, never-expiring last, then
/// oldest (lowest id) first.
pub fn spend_order(a: &Batch, b: &Batch) -> std::cmp::Ordering {
    let key = |x: &Batch| (x.expires_at.is_none(), x.expires_at.unwrap_or(0), x.id);
    key(a).cmp(&key(b))
}

/// How many points to take from which batch: `(batch id, points)`, in spend order.
/// `prefer` is taken first (a refund claws back from the purchase's own batch).
/// `Err(available)` when the spendable points don't cover `points`.
pub fn allocate(
    batches: &[Batch],
    points: i64,
    now: i64,
    prefer: Option<i64>,
) -> Result<Vec<(i64, i64)>, i64> {
    let mut usable: Vec<Batch> = batches
        .iter()
        .copied()
        .filter(|b| b.spendable(now))
        .collect();
    usable.sort_by(|a, b| {
        let preferred = |x: &Batch| Some(x.id) != prefer;
        preferred(a)
            .cmp(&preferred(b))
            .then_with(|| spend_order(a, b))
    });
    let available: i64 = usable.iter().map(|b| b.remaining).sum();
    if points <= 0 {
        return Ok(Vec::new());
    }
    if available < points {
        return Err(available);
    }
    let mut left = points;
    let mut out = Vec::new();
    for b in usable {
        if left == 0 {
            break;
        }
        let take = b.remaining.min(left);
        out.push((b.id, take));
        left -= take;
    }
    Ok(out)
}

/// What taking points from a member's open batches does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Debit {
    /// Due batches with points left: they expire in the same transaction (they would be
    /// gone a minute later anyway).
    pub due: Vec<Batch>,
    /// Their points.
    pub expired: i64,
    /// `(batch id, points)` taken, in the order `allocate` gives.
    pub takes: Vec<(i64, i64)>,
}

/// Takes `points` from `batches` (due ones expire first, then `allocate`'s order).
/// `Err(available)` when the spendable points don't cover it.
pub fn debit(batches: &[Batch], points: i64, now: i64, prefer: Option<i64>) -> Result<Debit, i64> {
    let takes = allocate(batches, points, now, prefer)?;
    let due: Vec<Batch> = batches.iter().copied().filter(|b| b.is_due(now)).collect();
    Ok(Debit {
        expired: due.iter().map(|b| b.remaining).sum(),
        due,
        takes,
    })
}

/// The spendable points of `batches` at `now`.
pub fn spendable(batches: &[Batch], now: i64) -> i64 {
    batches
        .iter()
        .filter(|b| b.spendable(now))
        .map(|b| b.remaining)
        .sum()
}

/// Points expiring next: the soonest expiry instant among spendable batches and the
/// points that expire then.
pub fn next_expiry(batches: &[Batch], now: i64) -> Option<(i64, i64)> {
    let at = batches
        .iter()
        .filter(|b| b.spendable(now))
        .filter_map(|b| b.expires_at)
        .min()?;
    let points = batches
        .iter()
        .filter(|b| b.spendable(now) && b.expires_at == Some(at))
        .map(|b| b.remaining)
        .sum();
    Some((at, points))
}

/// A refund takes back what the purchase earned, but never below a zero balance:
/// `(taken, shortfall)` with `taken + shortfall == earned`.
pub fn clawback(balance: i64, earned: i64) -> (i64, i64) {
    let earned = earned.max(0);
    let taken = earned.min(balance.max(0));
    (taken, earned - taken)
}

/// How much of `debt` (points a refund could not take back) a credit of `credit` points
/// pays off: all of it when the credit covers it, else the whole credit.
pub fn settled_from(debt: i64, credit: i64) -> i64 {
    debt.clamp(0, credit.max(0))
}

/// The part of a purchase's `earned` points (or growth) that a refund of `part` fen
/// takes back, when `before` fen of the `paid` fen were refunded already. Each refund
/// takes the difference of the cumulative floors, so the parts of several refunds add
/// up to exactly `earned` once all of `paid` is refunded, whatever the split, and no
/// sequence of refunds takes more than was earned. Rounding down favours the member
/// on every part; the last part settles the rest. Out-of-range input is clamped (a
/// refund beyond what was paid counts as the rest): the caller refuses it first.
pub fn refund_share(earned: i64, paid: i64, before: i64, part: i64) -> i64 {
    let earned = earned.max(0);
    if paid <= 0 {
        // Nothing was paid (a fully discounted basket): the one refund is the whole.
        return earned;
    }
    let before = before.clamp(0, paid);
    let after = before.saturating_add(part.max(0)).min(paid);
    let upto = |cents: i64| -> i64 {
        let v = i128::from(earned) * i128::from(cents) / i128::from(paid);
        i64::try_from(v).unwrap_or(earned)
    };
    upto(after) - upto(before)
}

/// Whole days from `now` until `at` (rounded up; 0 when due).
pub fn days_until(at: i64, now: i64) -> i64 {
    ((at - now).max(0) + DAY_SECS - 1) / DAY_SECS
}

/// A ledger reason as a member may see it: without the row's reference (an order
/// reference such as `POS-20261207052007-377fe4`, a batch), which is for staff and audit.
/// Older rows wrote the order reference into the reason ("退货 POS-1：…").
pub fn without_ref(reason: &str, source_ref: Option<&str>) -> String {
    let cut = match source_ref.filter(|r| !r.is_empty()) {
        Some(r) => reason.replace(r, ""),
        None => reason.to_string(),
    };
    let words: Vec<&str> = cut.split_whitespace().collect();
    words
        .join(" ")
        .replace(" ：", "：")
        .replace(" :", ":")
        .trim_end_matches(['：', ':'])
        .to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::civil::iso;

    #[test]
    fn ledger_kinds_are_the_schemas_words() {
        // The Postgres schema's CHECK on points_ledger.kind (SQLite has no CHECK there).
        let schema = include_str!("../../server/migrations/postgres/0008_signup.sql");
        let check = schema
            .lines()
            .find(|l| l.contains("CHECK (kind IN ('earn'"))
            .unwrap();
        let words: Vec<&str> = check.split('\'').skip(1).step_by(2).collect();
        let mut ours: Vec<&str> = LedgerKind::ALL.iter().map(|k| k.as_str()).collect();
        let mut theirs = words.clone();
        ours.sort_unstable();
        theirs.sort_unstable();
        assert_eq!(ours, theirs);
        for k in LedgerKind::ALL {
            assert_eq!(LedgerKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(LedgerKind::parse("bonus"), None);
    }

    #[test]
    fn reasons_lose_their_reference() {
        assert_eq!(
            without_ref("退货 POS-20261207-1：尺码不合适", Some("POS-20261207-1")),
            "退货：尺码不合适"
        );
        assert_eq!(without_ref("退货 A-7：", Some("A-7")), "退货");
        assert_eq!(without_ref("消费 ¥90.00", Some("POS-1")), "消费 ¥90.00");
        assert_eq!(without_ref("手工调整", None), "手工调整");
    }
    use proptest::prelude::*;

    // 2026-03-15T10:00:00+08:00
    const EARNED: i64 = 1_773_540_000;

    fn day(t: Option<i64>) -> String {
        iso(last_valid_day(t.unwrap()))
    }

    #[test]
    fn rules_give_local_end_of_period() {
        assert_eq!(ExpiryRule::Never.expires_at(EARNED), None);
        assert_eq!(day(ExpiryRule::Days(30).expires_at(EARNED)), "2026-04-14");
        assert_eq!(
            day(ExpiryRule::MonthEnd(0).expires_at(EARNED)),
            "2026-03-31"
        );
        assert_eq!(
            day(ExpiryRule::MonthEnd(12).expires_at(EARNED)),
            "2027-03-31"
        );
        assert_eq!(day(ExpiryRule::YearEnd(0).expires_at(EARNED)), "2026-12-31");
        assert_eq!(day(ExpiryRule::YearEnd(1).expires_at(EARNED)), "2027-12-31");
        // Expiry is local midnight: 16:00 UTC the day before.
        let t = ExpiryRule::YearEnd(0).expires_at(EARNED).unwrap();
        assert_eq!(t % 86_400, 16 * 3600);
    }

    #[test]
    fn earned_late_evening_counts_local_day() {
        // 2026-01-31T23:30+08:00 is still January locally (15:30 UTC).
        let t = 1_769_873_400;
        assert_eq!(iso(crate::civil::local_date(t)), "2026-01-31");
        assert_eq!(day(ExpiryRule::MonthEnd(0).expires_at(t)), "2026-01-31");
        assert_eq!(day(ExpiryRule::MonthEnd(1).expires_at(t)), "2026-02-28");
    }

    #[test]
    fn rule_parts_round_trip_and_bounds() {
        for rule in [
            ExpiryRule::Never,
            ExpiryRule::Days(365),
            ExpiryRule::MonthEnd(0),
            ExpiryRule::YearEnd(1),
        ] {
            assert_eq!(ExpiryRule::from_parts(rule.kind(), rule.n()), Ok(rule));
        }
        assert_eq!(
            ExpiryRule::from_parts("days", 0),
            Err(RuleError::OutOfRange)
        );
        assert_eq!(
            ExpiryRule::from_parts("days", -1),
            Err(RuleError::OutOfRange)
        );
        assert_eq!(
            ExpiryRule::from_parts("year_end", 11),
            Err(RuleError::OutOfRange)
        );
        assert_eq!(
            ExpiryRule::from_parts("weekly", 1),
            Err(RuleError::UnknownKind)
        );
    }

    fn b(id: i64, remaining: i64, expires_at: Option<i64>) -> Batch {
        Batch {
            id,
            remaining,
            expires_at,
        }
    }

    #[test]
    fn spends_soonest_expiry_first_and_never_last() {
        let batches = [b(1, 50, None), b(2, 30, Some(200)), b(3, 40, Some(100))];
        assert_eq!(allocate(&batches, 60, 0, None), Ok(vec![(3, 40), (2, 20)]));
        assert_eq!(
            allocate(&batches, 100, 0, None),
            Ok(vec![(3, 40), (2, 30), (1, 30)])
        );
        // Batch 3 has expired at t=100: not spendable.
        assert_eq!(allocate(&batches, 90, 100, None), Err(80));
        assert_eq!(allocate(&batches, 0, 0, None), Ok(vec![]));
        // A refund takes from the purchase's own batch first.
        assert_eq!(
            allocate(&batches, 60, 0, Some(1)),
            Ok(vec![(1, 50), (3, 10)])
        );
    }

    #[test]
    fn next_expiry_sums_the_soonest_date() {
        let batches = [
            b(1, 50, None),
            b(2, 30, Some(200)),
            b(3, 40, Some(200)),
            b(4, 0, Some(100)),
        ];
        assert_eq!(next_expiry(&batches, 0), Some((200, 70)));
        assert_eq!(next_expiry(&batches, 200), None);
        assert_eq!(next_expiry(&[b(1, 5, None)], 0), None);
    }

    #[test]
    fn clawback_stops_at_zero() {
        assert_eq!(clawback(500, 120), (120, 0));
        assert_eq!(clawback(80, 120), (80, 40));
        assert_eq!(clawback(0, 120), (0, 120));
    }

    #[test]
    fn refund_share_in_proportion() {
        // Half of 100.00 back: half of the 100 points.
        assert_eq!(refund_share(100, 10_000, 0, 5_000), 50);
        assert_eq!(refund_share(100, 10_000, 5_000, 5_000), 50);
        // Three thirds of 101 points: 33 + 34 + 34 (cumulative floors), never 102.
        assert_eq!(refund_share(101, 300, 0, 100), 33);
        assert_eq!(refund_share(101, 300, 100, 100), 34);
        assert_eq!(refund_share(101, 300, 200, 100), 34);
        // One fen of a big purchase takes nothing; the rest takes everything.
        assert_eq!(refund_share(88, 8_800, 0, 1), 0);
        assert_eq!(refund_share(88, 8_800, 1, 8_799), 88);
        // A fully discounted basket: the refund takes all it earned (nothing usually).
        assert_eq!(refund_share(5, 0, 0, 0), 5);
        assert_eq!(refund_share(-3, 100, 0, 100), 0);
    }

    #[test]
    fn days_until_rounds_up() {
        assert_eq!(days_until(100, 100), 0);
        assert_eq!(days_until(100 + 1, 100), 1);
        assert_eq!(days_until(100 + 86_400, 100), 1);
        assert_eq!(days_until(100 + 86_401, 100), 2);
    }

    fn arb_batches() -> impl Strategy<Value = Vec<Batch>> {
        prop::collection::vec((0i64..500, prop::option::of(0i64..1000)), 0..12).prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (remaining, expires_at))| b(i as i64 + 1, remaining, expires_at))
                .collect()
        })
    }

    proptest! {
        #[test]
        fn allocation_is_exact_and_within_batches(
            batches in arb_batches(), points in 0i64..3000, now in 0i64..1000,
        ) {
            let available: i64 = batches.iter().filter(|x| x.spendable(now)).map(|x| x.remaining).sum();
            match allocate(&batches, points, now, None) {
                Ok(takes) => {
                    prop_assert!(points <= available);
                    prop_assert_eq!(takes.iter().map(|t| t.1).sum::<i64>(), points);
                    for (id, take) in &takes {
                        let batch = batches.iter().find(|x| x.id == *id).unwrap();
                        prop_assert!(batch.spendable(now));
                        prop_assert!(*take > 0 && *take <= batch.remaining);
                    }
                    // Oldest first: every batch before the last one taken is used up.
                    if let Some((_, rest)) = takes.split_last() {
                        for (id, take) in rest {
                            let batch = batches.iter().find(|x| x.id == *id).unwrap();
                            prop_assert_eq!(*take, batch.remaining);
                        }
                    }
                }
                Err(have) => {
                    prop_assert_eq!(have, available);
                    prop_assert!(points > available);
                }
            }
        }

        #[test]
        fn expiry_is_after_earning_and_local_midnight(
            earned in 1_600_000_000i64..2_000_000_000, n in 0u32..40, kind in 0usize..3,
        ) {
            let rule = match kind {
                0 => ExpiryRule::Days(n + 1),
                1 => ExpiryRule::MonthEnd(n),
                _ => ExpiryRule::YearEnd(n % 10),
            };
            let at = rule.expires_at(earned).unwrap();
            prop_assert!(at > earned);
            prop_assert_eq!((at + crate::civil::TZ_OFFSET_SECS) % 86_400, 0);
        }

        #[test]
        fn refund_shares_add_up_to_exactly_what_was_earned(
            earned in 0i64..1_000_000,
            paid in 1i64..100_000_000,
            cuts in prop::collection::vec(1u32..1000, 1..20),
        ) {
            // Split `paid` into parts in the ratio of `cuts` (the last part takes the rest).
            let total: u64 = cuts.iter().map(|&c| u64::from(c)).sum();
            let mut parts = Vec::new();
            let mut left = paid;
            for &c in &cuts {
                let p = (i128::from(paid) * i128::from(c) / i128::from(total)) as i64;
                let p = p.min(left);
                parts.push(p);
                left -= p;
            }
            if let Some(last) = parts.last_mut() {
                *last += left;
            }
            let mut before = 0;
            let mut sum = 0;
            for &p in &parts {
                let share = refund_share(earned, paid, before, p);
                prop_assert!(share >= 0);
                // Never more than in proportion, rounded up.
                prop_assert!(i128::from(share) * i128::from(paid) <= i128::from(earned) * i128::from(p) + i128::from(paid));
                before += p;
                sum += share;
                prop_assert!(sum <= earned);
            }
            prop_assert_eq!(before, paid);
            prop_assert_eq!(sum, earned);
        }

        #[test]
        fn refund_share_never_exceeds_what_is_left(
            earned in 0i64..1_000_000, paid in 1i64..10_000_000,
            before in 0i64..10_000_000, part in 0i64..20_000_000,
        ) {
            let share = refund_share(earned, paid, before, part);
            let taken_before = refund_share(earned, paid, 0, before);
            prop_assert!(share >= 0);
            prop_assert!(taken_before + share <= earned);
        }

        #[test]
        fn clawback_never_negative(balance in 0i64..10_000, earned in 0i64..10_000) {
            let (taken, short) = clawback(balance, earned);
            prop_assert!(taken >= 0 && short >= 0 && taken <= balance);
            prop_assert_eq!(taken + short, earned);
        }
    }
}

//! Coupons: what a coupon is worth for a basket, whether it may be used, and the dates
//! the campaigns that issue coupons run on. The staff app previews checkout with this
//! code; the server decides with the same code inside the purchase transaction.
//!
//! Arithmetic is in fen (CNY cents), integers only:
//! - amount off: `min(off, remaining)`;
//! - percent off: `floor(remaining × percent / 100)`, then the cap, then `remaining`:
//!   rounding is always down to the fen, so a member never gets more than the stated
//!   percent (¥0.99 at 10 % off is ¥0.09 off);
//! - a gift coupon is worth 0 fen at the till (the item is handed over).
//!
//! Several coupons on one purchase: all must be stackable (a non-stackable coupon is
//! used alone), at most one per template, and every minimum spend is measured against
//! the basket before any discount. They apply in a fixed order whatever order the
//! cashier ticked them in: amounts off first (largest first), then percents off on
//! what is left (largest first), then gifts; the total discount never exceeds the
//! basket and the amount to pay never goes below zero.

use crate::civil::{self, Date};
use crate::mall::{
    format_order_code, normalize_order_code, order_code_from_random, ORDER_CODE_LEN,
};

/// What a coupon gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Benefit {
    /// 满100减20: `off_cents` off the basket.
    AmountOff { off_cents: i64 },
    /// 9折 is `percent_off: 10`; `cap_cents` bounds the discount (e.g. "最高减30元").
    PercentOff {
        percent_off: i64,
        cap_cents: Option<i64>,
    },
    /// A free item handed over at the counter (e.g. "免费加料").
    Gift { item: String },
}

/// The rules a coupon carries (from its template).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    pub benefit: Benefit,
    /// The basket must be at least this (before discounts); 0 = no minimum.
    pub min_spend_cents: i64,
    pub stackable: bool,
    /// Store codes where it may be used; empty = every store.
    pub store_codes: Vec<String>,
}

/// One coupon in a member's wallet, as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub id: i64,
    pub template_id: i64,
    pub terms: Terms,
    /// Usable from this instant (unix seconds)…
    pub valid_from: i64,
    /// …until just before this one.
    pub expires_at: i64,
    /// Still in the wallet (not used, not voided).
    pub unused: bool,
}

/// Where and when a coupon would be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Till<'a> {
    pub now: i64,
    pub store_code: &'a str,
    pub basket_cents: i64,
}

/// Why a coupon can't be used (each maps to a stable wire error code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Used already (or voided).
    Used,
    Expired,
    NotYetValid,
    /// The basket is below the minimum spend (the minimum is carried).
    MinSpend {
        min_spend_cents: i64,
    },
    /// Not valid in this store.
    WrongStore,
    /// A non-stackable coupon with others, or two of one template.
    NotStackable,
    /// The same coupon named twice.
    Duplicate,
    /// More coupons than a purchase may carry.
    TooMany,
}

/// At most this many coupons on one purchase.
pub const MAX_PER_PURCHASE: usize = 10;

/// Percent off must be 1..=99 (100 % would be a gift, 0 % nothing).
pub const MAX_PERCENT_OFF: i64 = 99;

/// Whether `coupon` may be used at `till` on its own.
pub fn check(coupon: &Held, till: &Till<'_>) -> Result<(), Refusal> {
    if !coupon.unused {
        return Err(Refusal::Used);
    }
    if till.now >= coupon.expires_at {
        return Err(Refusal::Expired);
    }
    if till.now < coupon.valid_from {
        return Err(Refusal::NotYetValid);
    }
    let terms = &coupon.terms;
    if !terms.store_codes.is_empty() && !terms.store_codes.iter().any(|s| s == till.store_code) {
        return Err(Refusal::WrongStore);
    }
    if till.basket_cents < terms.min_spend_cents {
        return Err(Refusal::MinSpend {
            min_spend_cents: terms.min_spend_cents,
        });
    }
    Ok(())
}

/// What one coupon took off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub coupon_id: i64,
    pub discount_cents: i64,
    /// The item handed over, for a gift coupon.
    pub gift: Option<String>,
}

/// The checkout with the chosen coupons applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub basket_cents: i64,
    pub discount_cents: i64,
    /// `basket_cents - discount_cents`, never negative.
    pub payable_cents: i64,
    /// In the order the coupons were applied.
    pub lines: Vec<Line>,
}

/// The discount one benefit gives on `remaining` fen (already reduced by coupons applied
/// before it). Never negative, never more than `remaining`.
pub fn discount(benefit: &Benefit, remaining: i64) -> i64 {
    let remaining = remaining.max(0);
    let raw = match benefit {
        Benefit::AmountOff { off_cents } => (*off_cents).max(0),
        Benefit::PercentOff {
            percent_off,
            cap_cents,
        } => {
            let pct = (*percent_off).clamp(0, 100);
            // i128: remaining × 100 can't overflow whatever the basket.
            let off = i64::try_from(i128::from(remaining) * i128::from(pct) / 100).unwrap_or(0);
            match cap_cents {
                Some(cap) => off.min((*cap).max(0)),
                None => off,
            }
        }
        Benefit::Gift { .. } => 0,
    };
    raw.min(remaining)
}

/// The order coupons apply in: amounts off (largest first), percents off (largest
/// first), gifts; ties by coupon id, so the result never depends on the input order.
fn apply_rank(c: &Held) -> (u8, i64, i64) {
    match &c.terms.benefit {
        Benefit::AmountOff { off_cents } => (0, -off_cents, c.id),
        Benefit::PercentOff { percent_off, .. } => (1, -percent_off, c.id),
        Benefit::Gift { .. } => (2, 0, c.id),
    }
}

/// Applies `chosen` to the basket at `till`, or says which coupon can't be used and why.
/// No coupons: the basket as it is.
pub fn quote(chosen: &[&Held], till: &Till<'_>) -> Result<Quote, (i64, Refusal)> {
    if chosen.len() > MAX_PER_PURCHASE {
        return Err((chosen.first().map_or(0, |c| c.id), Refusal::TooMany));
    }
    for (i, c) in chosen.iter().enumerate() {
        if chosen[..i].iter().any(|o| o.id == c.id) {
            return Err((c.id, Refusal::Duplicate));
        }
    }
    for c in chosen {
        check(c, till).map_err(|r| (c.id, r))?;
    }
    if chosen.len() > 1 {
        for (i, c) in chosen.iter().enumerate() {
            let twin = chosen[..i].iter().any(|o| o.template_id == c.template_id);
            if !c.terms.stackable || twin {
                return Err((c.id, Refusal::NotStackable));
            }
        }
    }
    let mut ordered: Vec<&Held> = chosen.to_vec();
    ordered.sort_by_key(|c| apply_rank(c));
    let basket = till.basket_cents.max(0);
    let mut remaining = basket;
    let mut lines = Vec::with_capacity(ordered.len());
    for c in ordered {
        let off = discount(&c.terms.benefit, remaining);
        remaining -= off;
        lines.push(Line {
            coupon_id: c.id,
            discount_cents: off,
            gift: match &c.terms.benefit {
                Benefit::Gift { item } => Some(item.clone()),
                _ => None,
            },
        });
    }
    Ok(Quote {
        basket_cents: basket,
        discount_cents: basket - remaining,
        payable_cents: remaining,
        lines,
    })
}

/// How a template's coupons get their validity when issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// The same window for every coupon: `[from, until)`.
    Fixed { from: i64, until: i64 },
    /// From the moment of issue through the end of the `n`-th local day, counting the
    /// day of issue as day 1 (7 = this day and the six after it).
    Days(u32),
}

/// The longest relative validity a template may have.
pub const MAX_VALID_DAYS: u32 = 3660;

impl Validity {
    /// `(valid_from, expires_at)` of a coupon issued at `issued_at`.
    pub fn window(&self, issued_at: i64) -> (i64, i64) {
        match *self {
            Self::Fixed { from, until } => (from, until),
            Self::Days(n) => {
                let day = civil::days_from_date(civil::local_date(issued_at));
                let first_day_gone = civil::date_from_days(day + i64::from(n.max(1)));
                (issued_at, civil::local_midnight(first_day_gone))
            }
        }
    }
}

/// Local days left until `expires_at`, counting today as 1 ("今天到期" = 1); 0 once
/// it has expired.
pub fn days_left(expires_at: i64, now: i64) -> i64 {
    if now >= expires_at {
        return 0;
    }
    let today = civil::days_from_date(civil::local_date(now));
    let last = civil::days_from_date(civil::local_date(expires_at - 1));
    last - today + 1
}

/// The wallet marks coupons that expire within this many local days ("3天后过期").
pub const EXPIRING_SOON_DAYS: i64 = 3;

pub fn expiring_soon(expires_at: i64, now: i64) -> bool {
    (1..=EXPIRING_SOON_DAYS + 1).contains(&days_left(expires_at, now))
}

/// Coupon codes share the order codes' alphabet and length: shown as text and QR on
/// the coupon, typed or scanned at the till.
pub const CODE_LEN: usize = ORDER_CODE_LEN;

pub fn code_from_random(bytes: &[u8; CODE_LEN]) -> String {
    order_code_from_random(bytes)
}

pub fn normalize_code(input: &str) -> Option<String> {
    normalize_order_code(input)
}

pub fn format_code(code: &str) -> String {
    format_order_code(code)
}

// --- campaign calendars -------------------------------------------------------------

/// When the birthday gift is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BirthdayWindow {
    /// Any day of the birthday month.
    Month,
    /// The Monday-to-Sunday week that holds the birthday.
    Week,
}

/// A member's birthday as month and day (the year is not needed for the gift).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Birthday {
    pub month: u32,
    pub day: u32,
}

impl Birthday {
    /// A real calendar day (29 February allowed).
    pub fn new(month: u32, day: u32) -> Option<Self> {
        let max = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 => 29,
            _ => return None,
        };
        (1..=max).contains(&day).then_some(Self { month, day })
    }

    /// The day it falls on in `year`: 29 February is celebrated on 28 February in
    /// years without one.
    pub fn in_year(self, year: i64) -> Date {
        let day = if self.month == 2 && self.day == 29 && !civil::is_leap(year) {
            28
        } else {
            self.day
        };
        Date {
            year,
            month: self.month,
            day,
        }
    }
}

/// The year whose birthday gift is due on `today`, if one is: the period key that makes
/// the gift once a year (a week around New Year belongs to the birthday's own year).
pub fn birthday_due(birthday: Birthday, window: BirthdayWindow, today: Date) -> Option<i64> {
    match window {
        BirthdayWindow::Month => (today.month == birthday.month).then_some(today.year),
        BirthdayWindow::Week => {
            let t = civil::days_from_date(today);
            let monday = t - i64::from(civil::weekday(today)) + 1;
            [today.year - 1, today.year, today.year + 1]
                .into_iter()
                .find(|y| {
                    let b = civil::days_from_date(birthday.in_year(*y));
                    (monday..monday + 7).contains(&b)
                })
        }
    }
}

/// How often a member may change a birthday once set: the gift can't be had twice a
/// year by moving the date.
pub const BIRTHDAY_CHANGE_EVERY_SECS: i64 = 365 * civil::DAY_SECS;

/// `Ok` when the birthday may be set now, else the instant it may change again.
pub fn birthday_change_allowed(last_set_at: Option<i64>, now: i64) -> Result<(), i64> {
    match last_set_at {
        Some(at) if now < at + BIRTHDAY_CHANGE_EVERY_SECS => Err(at + BIRTHDAY_CHANGE_EVERY_SECS),
        _ => Ok(()),
    }
}

/// The brand's member day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberDay {
    /// Every week on this weekday (Monday = 1 … Sunday = 7).
    Weekday(u32),
    /// Every month on this day; past the month's end it falls on the last day.
    MonthDay(u32),
}

impl MemberDay {
    /// `weekday:3`, `monthday:18`
    pub fn parse(s: &str) -> Option<Self> {
        let (kind, n) = s.split_once(':')?;
        let n: u32 = n.parse().ok()?;
        match kind {
            "weekday" if (1..=7).contains(&n) => Some(Self::Weekday(n)),
            "monthday" if (1..=31).contains(&n) => Some(Self::MonthDay(n)),
            _ => None,
        }
    }

    pub fn as_string(self) -> String {
        match self {
            Self::Weekday(n) => format!("weekday:{n}"),
            Self::MonthDay(n) => format!("monthday:{n}"),
        }
    }

    pub fn is_on(self, date: Date) -> bool {
        match self {
            Self::Weekday(n) => civil::weekday(date) == n,
            Self::MonthDay(n) => date.day == n.min(civil::days_in_month(date.year, date.month)),
        }
    }
}

/// A member is lapsing when their last purchase is at least `lapse_days` ago.
pub fn lapsing(last_purchase_at: Option<i64>, lapse_days: i64, now: i64) -> bool {
    last_purchase_at.is_some_and(|at| now - at >= lapse_days * civil::DAY_SECS)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;

    const NOW: i64 = 1_790_000_000;

    fn held(id: i64, benefit: Benefit, min: i64, stackable: bool) -> Held {
        Held {
            id,
            template_id: id,
            terms: Terms {
                benefit,
                min_spend_cents: min,
                stackable,
                store_codes: vec![],
            },
            valid_from: NOW - 10,
            expires_at: NOW + 1000,
            unused: true,
        }
    }

    fn till(basket: i64) -> Till<'static> {
        Till {
            now: NOW,
            store_code: "S001",
            basket_cents: basket,
        }
    }

    fn amount(off: i64) -> Benefit {
        Benefit::AmountOff { off_cents: off }
    }

    fn percent(p: i64, cap: Option<i64>) -> Benefit {
        Benefit::PercentOff {
            percent_off: p,
            cap_cents: cap,
        }
    }

    #[test]
    fn amount_off_with_minimum_spend() {
        let c = held(1, amount(2000), 10_000, false);
        let q = quote(&[&c], &till(12_000)).unwrap();
        assert_eq!((q.discount_cents, q.payable_cents), (2000, 10_000));
        assert_eq!(
            quote(&[&c], &till(9_999)),
            Err((
                1,
                Refusal::MinSpend {
                    min_spend_cents: 10_000
                }
            ))
        );
    }

    #[test]
    fn percent_rounds_down_and_caps() {
        assert_eq!(discount(&percent(10, None), 99), 9);
        assert_eq!(discount(&percent(10, Some(3000)), 100_000), 3000);
        assert_eq!(discount(&percent(15, None), 1), 0);
    }

    #[test]
    fn amount_off_larger_than_basket_pays_nothing() {
        let c = held(1, amount(500), 0, false);
        let q = quote(&[&c], &till(300)).unwrap();
        assert_eq!((q.discount_cents, q.payable_cents), (300, 0));
    }

    #[test]
    fn stacking_rules() {
        let a = held(1, amount(1000), 0, true);
        let b = held(2, percent(10, None), 0, true);
        let solo = held(3, amount(500), 0, false);
        // Amount first, then percent on what is left, whatever the order given.
        let q = quote(&[&b, &a], &till(10_000)).unwrap();
        assert_eq!(q.discount_cents, 1000 + 900);
        assert_eq!(q.lines[0].coupon_id, 1);
        assert_eq!(
            quote(&[&a, &solo], &till(10_000)),
            Err((3, Refusal::NotStackable))
        );
        assert_eq!(
            quote(&[&a, &a], &till(10_000)),
            Err((1, Refusal::Duplicate))
        );
        let mut twin = a.clone();
        twin.id = 9;
        assert_eq!(
            quote(&[&a, &twin], &till(10_000)),
            Err((9, Refusal::NotStackable))
        );
        assert!(quote(&[&solo], &till(10_000)).is_ok());
    }

    #[test]
    fn status_store_and_dates() {
        let mut c = held(1, amount(100), 0, true);
        c.terms.store_codes = vec!["S002".into()];
        assert_eq!(check(&c, &till(1000)), Err(Refusal::WrongStore));
        c.terms.store_codes = vec!["S001".into()];
        assert_eq!(check(&c, &till(1000)), Ok(()));
        c.expires_at = NOW;
        assert_eq!(check(&c, &till(1000)), Err(Refusal::Expired));
        c.expires_at = NOW + 10;
        c.valid_from = NOW + 1;
        assert_eq!(check(&c, &till(1000)), Err(Refusal::NotYetValid));
        c.valid_from = NOW;
        c.unused = false;
        assert_eq!(check(&c, &till(1000)), Err(Refusal::Used));
    }

    #[test]
    fn gift_is_free_at_the_till() {
        let g = held(
            1,
            Benefit::Gift {
                item: "加料".into(),
            },
            0,
            true,
        );
        let q = quote(&[&g], &till(800)).unwrap();
        assert_eq!(q.discount_cents, 0);
        assert_eq!(q.lines[0].gift.as_deref(), Some("加料"));
    }

    #[test]
    fn relative_validity_ends_at_local_midnight() {
        // 2026-11-23 10:00 Shanghai = 02:00 UTC.
        let issued = civil::local_midnight(Date {
            year: 2026,
            month: 11,
            day: 23,
        }) + 10 * 3600;
        let (from, until) = Validity::Days(7).window(issued);
        assert_eq!(from, issued);
        assert_eq!(
            civil::local_date(until),
            Date {
                year: 2026,
                month: 11,
                day: 30
            }
        );
        assert_eq!(days_left(until, issued), 7);
        assert_eq!(days_left(until, until - 1), 1);
        assert_eq!(days_left(until, until), 0);
        assert!(expiring_soon(until, until - 1));
        assert!(!expiring_soon(until, issued));
    }

    #[test]
    fn birthday_windows() {
        let d = |y, m, day| Date {
            year: y,
            month: m,
            day,
        };
        let b = Birthday::new(12, 31).unwrap();
        assert_eq!(
            birthday_due(b, BirthdayWindow::Month, d(2026, 12, 1)),
            Some(2026)
        );
        assert_eq!(
            birthday_due(b, BirthdayWindow::Month, d(2026, 11, 30)),
            None
        );
        // 2026-12-31 is a Thursday: its week runs 28 Dec – 3 Jan.
        assert_eq!(civil::weekday(d(2026, 12, 31)), 4);
        assert_eq!(
            birthday_due(b, BirthdayWindow::Week, d(2027, 1, 3)),
            Some(2026)
        );
        assert_eq!(birthday_due(b, BirthdayWindow::Week, d(2027, 1, 4)), None);
        assert_eq!(birthday_due(b, BirthdayWindow::Week, d(2026, 12, 27)), None);
        let leap = Birthday::new(2, 29).unwrap();
        assert_eq!(leap.in_year(2027), d(2027, 2, 28));
        assert_eq!(Birthday::new(2, 30), None);
        assert_eq!(Birthday::new(13, 1), None);
    }

    #[test]
    fn birthday_changes_once_a_year() {
        assert_eq!(birthday_change_allowed(None, NOW), Ok(()));
        let next = NOW + BIRTHDAY_CHANGE_EVERY_SECS;
        assert_eq!(birthday_change_allowed(Some(NOW), NOW + 10), Err(next));
        assert_eq!(birthday_change_allowed(Some(NOW), next), Ok(()));
    }

    #[test]
    fn member_days() {
        let d = |y, m, day| Date {
            year: y,
            month: m,
            day,
        };
        assert!(MemberDay::Weekday(1).is_on(d(2026, 11, 23)));
        assert!(MemberDay::MonthDay(31).is_on(d(2026, 2, 28)));
        assert!(!MemberDay::MonthDay(31).is_on(d(2026, 3, 30)));
        assert_eq!(MemberDay::parse("weekday:3"), Some(MemberDay::Weekday(3)));
        assert_eq!(MemberDay::parse("weekday:8"), None);
        assert_eq!(
            MemberDay::parse("monthday:18")
                .map(MemberDay::as_string)
                .as_deref(),
            Some("monthday:18")
        );
    }

    #[test]
    fn lapsing_needs_a_purchase_long_enough_ago() {
        assert!(!lapsing(None, 90, NOW));
        assert!(lapsing(Some(NOW - 90 * 86_400), 90, NOW));
        assert!(!lapsing(Some(NOW - 89 * 86_400), 90, NOW));
    }

    fn benefit_strategy() -> impl Strategy<Value = Benefit> {
        prop_oneof![
            (0i64..200_000).prop_map(|off| Benefit::AmountOff { off_cents: off }),
            (1i64..=99, proptest::option::of(0i64..100_000)).prop_map(|(p, cap)| {
                Benefit::PercentOff {
                    percent_off: p,
                    cap_cents: cap,
                }
            }),
            Just(Benefit::Gift { item: "x".into() }),
        ]
    }

    proptest! {
        #[test]
        fn discount_bounded_by_basket(
            benefits in proptest::collection::vec(benefit_strategy(), 0..6),
            basket in 0i64..crate::money::MAX_PURCHASE_CENTS,
        ) {
            let wallet: Vec<Held> = benefits
                .into_iter()
                .enumerate()
                .map(|(i, b)| held(i64::try_from(i).unwrap() + 1, b, 0, true))
                .collect();
            let chosen: Vec<&Held> = wallet.iter().collect();
            let q = quote(&chosen, &till(basket)).unwrap();
            prop_assert!(q.discount_cents >= 0);
            prop_assert!(q.discount_cents <= basket);
            prop_assert_eq!(q.payable_cents, basket - q.discount_cents);
            prop_assert!(q.lines.iter().all(|l| l.discount_cents >= 0));
            prop_assert_eq!(q.lines.iter().map(|l| l.discount_cents).sum::<i64>(), q.discount_cents);
            // The order given never changes the result.
            let reversed: Vec<&Held> = wallet.iter().rev().collect();
            prop_assert_eq!(quote(&reversed, &till(basket)).unwrap(), q);
        }

        #[test]
        fn percent_never_beats_its_rate_or_cap(
            p in 1i64..=99, cap in proptest::option::of(0i64..100_000), base in 0i64..100_000_000,
        ) {
            let off = discount(&Benefit::PercentOff { percent_off: p, cap_cents: cap }, base);
            prop_assert!(off >= 0);
            prop_assert!(off * 100 <= base * p);
            // Rounded down by less than one fen.
            prop_assert!(cap.is_some() || (off + 1) * 100 > base * p);
            if let Some(cap) = cap { prop_assert!(off <= cap); }
        }

        #[test]
        fn minimum_spend_is_exact(min in 0i64..1_000_000, basket in 0i64..2_000_000) {
            let c = held(1, Benefit::AmountOff { off_cents: 100 }, min, false);
            prop_assert_eq!(check(&c, &till(basket)).is_ok(), basket >= min);
        }

        #[test]
        fn birthday_gift_once_a_year_in_week_mode(month in 1u32..=12, day in 1u32..=31, year in 2000i64..2100) {
            if let Some(b) = Birthday::new(month, day) {
                // Walk every day of the year: the gift is due on exactly 7 days per
                // birthday year, and each of those days names that year.
                let start = civil::days_from_date(Date { year, month: 1, day: 1 }) - 7;
                let due: Vec<i64> = (start..start + 380)
                    .filter_map(|d| birthday_due(b, BirthdayWindow::Week, civil::date_from_days(d)))
                    .filter(|y| *y == year)
                    .collect();
                prop_assert_eq!(due.len(), 7);
            }
        }

        #[test]
        fn days_validity_covers_whole_days(n in 1u32..400, issued in 1_600_000_000i64..2_000_000_000) {
            let (from, until) = Validity::Days(n).window(issued);
            prop_assert_eq!(from, issued);
            prop_assert_eq!(days_left(until, issued), i64::from(n));
            prop_assert_eq!((until + civil::TZ_OFFSET_SECS) % civil::DAY_SECS, 0);
        }
    }
}

//! What a purchase earns: points at the tier's rate, growth per yuan, member days and
//! the birthday month.

use super::program::MemberDays;
use crate::civil::{self, Date};
use crate::coupons::Birthday;
use crate::dto::TierProgram;
use crate::money::Cents;

/// What a purchase is worth, before tiers move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Earned {
    pub points: i64,
    pub growth: i64,
    pub member_day: bool,
    pub birthday_month: bool,
}

/// Points at the tier's rate (times the member day's and the tier's birthday-month
/// multipliers), growth per whole yuan paid (times the member day's), all floored.
pub fn earn(
    p: &TierProgram,
    tier: usize,
    paid: Cents,
    at: i64,
    birthday: Option<Birthday>,
) -> Earned {
    let Some(t) = p.tiers.get(tier) else {
        return Earned {
            points: 0,
            growth: 0,
            member_day: false,
            birthday_month: false,
        };
    };
    let today = civil::local_date(at);
    let md = member_day_on(p, today);
    let (md_points, md_growth) = md.map_or((100, 100), |m| {
        (m.points_multiplier_pct, m.growth_multiplier_pct)
    });
    let birthday_month = birthday.is_some_and(|b| b.month == today.month);
    let bd_points = if birthday_month {
        t.benefits
            .iter()
            .filter(|b| b.kind == "birthday_multiplier")
            .map(|b| b.value)
            .max()
            .unwrap_or(100)
    } else {
        100
    };
    let multipliers: Vec<i64> = [md_points, bd_points]
        .into_iter()
        .filter(|m| *m != 100)
        .collect();
    let points = points_at(paid.get(), t.points_per_yuan_pct, &multipliers);
    let growth = growth_at(paid.get(), p.growth.per_yuan, md_growth);
    Earned {
        points,
        growth,
        member_day: md.is_some(),
        birthday_month: birthday_month && bd_points > 100,
    }
}

/// Points for `paid` fen at `rate_pct` (hundredths per yuan) with each multiplier (percent)
/// applied, floored once at the end; the till's preview uses the same function.
pub fn points_at(paid: i64, rate_pct: i64, multiplier_pcts: &[i64]) -> i64 {
    let mut num = i128::from(paid.max(0)) * i128::from(rate_pct.max(0));
    let mut den: i128 = 10_000;
    for m in multiplier_pcts {
        num = num.saturating_mul(i128::from((*m).max(0)));
        den = den.saturating_mul(100);
    }
    i64::try_from(num / den).unwrap_or(i64::MAX)
}

/// Growth for `paid` fen: per whole yuan, times the multiplier (percent), floored.
pub fn growth_at(paid: i64, per_yuan: i64, multiplier_pct: i64) -> i64 {
    let g = i128::from(paid.max(0) / 100)
        * i128::from(per_yuan.max(0))
        * i128::from(multiplier_pct.max(0))
        / 100;
    i64::try_from(g).unwrap_or(i64::MAX)
}

/// The multipliers `earn` applies for a member at `at` (for the till's preview).
pub fn earn_rates(
    p: &TierProgram,
    tier: usize,
    at: i64,
    birthday: Option<Birthday>,
) -> crate::dto::EarnRates {
    let today = civil::local_date(at);
    let md = member_day_on(p, today);
    let mut mults = Vec::new();
    if let Some(m) = md {
        mults.push(m.points_multiplier_pct);
    }
    if birthday.is_some_and(|b| b.month == today.month) {
        if let Some(v) = p.tiers.get(tier).and_then(|t| {
            t.benefits
                .iter()
                .filter(|b| b.kind == "birthday_multiplier")
                .map(|b| b.value)
                .max()
        }) {
            mults.push(v);
        }
    }
    crate::dto::EarnRates {
        points_multiplier_pcts: mults.into_iter().filter(|m| *m != 100).collect(),
        growth_per_yuan: p.growth.per_yuan,
        growth_multiplier_pct: md.map_or(100, |m| m.growth_multiplier_pct),
    }
}

/// The member-day rule when `date` is a member day.
pub fn member_day_on(p: &TierProgram, date: Date) -> Option<&crate::dto::MemberDayRule> {
    p.member_day
        .as_ref()
        .filter(|m| MemberDays::parse(&m.day).is_some_and(|d| d.is_on(date)))
}

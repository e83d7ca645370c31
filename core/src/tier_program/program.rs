//! The program's shape: its window and downgrade policy, member days, which version is
//! in effect, and tiers by code.

use crate::civil::Date;
use crate::coupons::MemberDay;
use crate::dto::TierProgram;
use crate::tiers::TierRule;

pub const MAX_TIERS: usize = 10;
pub const MAX_BENEFITS: usize = 10;
pub const MAX_PERIOD_MONTHS: i64 = 36;
pub const MAX_WINDOW_MONTHS: i64 = 36;
pub const MAX_WARN_DAYS: i64 = 90;
pub const MAX_MULTIPLIER_PCT: i64 = 1000;
pub const BENEFIT_KINDS: [&str; 6] = [
    "discount",
    "free_shipping",
    "birthday_multiplier",
    "exclusive_mall",
    "member_day_price",
    "custom",
];
pub const ICONS: [&str; 5] = ["", "leaf", "star", "crown", "diamond"];

/// Over which time growth counts for upgrades.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Lifetime,
    /// The last N months (an event counts until the same local day N months later).
    RollingMonths(u32),
    /// The current calendar year (events count until the next 1 January).
    CalendarYear,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    Never,
    ToEarned,
    OneStep,
}

/// The brand's member days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberDays {
    Day(MemberDay),
    /// The Nth week of each month: days 7N-6 to 7N (1..=4).
    MonthWeek(u32),
}

impl MemberDays {
    pub fn parse(s: &str) -> Option<Self> {
        if let Some(n) = s.strip_prefix("week:") {
            let n: u32 = n.parse().ok()?;
            return (1..=4).contains(&n).then_some(Self::MonthWeek(n));
        }
        MemberDay::parse(s).map(Self::Day)
    }

    pub fn is_on(self, date: Date) -> bool {
        match self {
            Self::Day(d) => d.is_on(date),
            Self::MonthWeek(n) => date.day.div_ceil(7) == n,
        }
    }
}

pub fn window(p: &TierProgram) -> Option<Window> {
    match p.growth.window.as_str() {
        "lifetime" => Some(Window::Lifetime),
        "calendar_year" => Some(Window::CalendarYear),
        "rolling_months" => u32::try_from(p.growth.window_months)
            .ok()
            .filter(|m| (1..=MAX_WINDOW_MONTHS as u32).contains(m))
            .map(Window::RollingMonths),
        _ => None,
    }
}

pub fn policy(p: &TierProgram) -> Option<Policy> {
    match p.downgrade.policy.as_str() {
        "never" => Some(Policy::Never),
        "to_earned" => Some(Policy::ToEarned),
        "one_step" => Some(Policy::OneStep),
        _ => None,
    }
}

/// The version in effect at `at`: the latest whose start is not after it (ties: the later
/// id). `versions` are `(id, effective_from, program)` in any order.
pub fn in_effect<T>(versions: &[(i64, i64, T)], at: i64) -> Option<&(i64, i64, T)> {
    versions
        .iter()
        .filter(|v| v.1 <= at)
        .max_by_key(|v| (v.1, v.0))
}

/// The tiers as the older code paths see them (threshold order, rates).
pub fn tier_rules(p: &TierProgram) -> Vec<TierRule> {
    p.tiers
        .iter()
        .map(|t| TierRule {
            code: t.code.clone(),
            name: t.name.clone(),
            growth_threshold: t.growth_threshold,
            points_per_yuan_pct: t.points_per_yuan_pct,
        })
        .collect()
}

pub fn index_of(p: &TierProgram, code: &str) -> Option<usize> {
    p.tiers.iter().position(|t| t.code == code)
}

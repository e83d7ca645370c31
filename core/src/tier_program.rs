//! The tier program's rules: which version applies when, what a purchase earns (tier
//! rate, member day, birthday month), upgrades at once, evaluation at the end of a
//! period (keep, drop to what was earned, or one step down), what keeping the tier still
//! takes, the growth window, decay and growth tasks.
//!
//! Times are unix seconds; calendar rules use the program's local days (`crate::civil`).
//! A period runs from an upgrade (or the previous period's end) for `period_months`
//! local months: upgraded on 2026-07-01 → evaluated at the start of 2027-07-01, so the
//! tier is kept "until 2027-06-30".

use crate::civil::{self, days_in_month, weekday, Date};
use crate::coupons::{Birthday, MemberDay};
use crate::dto::{TierDef, TierProgram};
use crate::money::Cents;
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

/// What is wrong with a program version (the message names the field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramError(pub String);

impl std::fmt::Display for ProgramError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn bad<T>(msg: impl Into<String>) -> Result<T, ProgramError> {
    Err(ProgramError(msg.into()))
}

fn valid_code(code: &str) -> bool {
    (1..=32).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn valid_text(s: &str, max_chars: usize) -> bool {
    let n = s.chars().count();
    (1..=max_chars).contains(&n) && !s.chars().any(char::is_control) && s.trim() == s
}

fn valid_color(c: &str) -> bool {
    c.is_empty()
        || (c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Checks a version on its own: tiers in ascending order from an entry tier at 0, sane
/// rates and multipliers, known kinds.
pub fn validate(p: &TierProgram) -> Result<(), ProgramError> {
    if p.tiers.is_empty() || p.tiers.len() > MAX_TIERS {
        return bad(format!("tiers: 1 to {MAX_TIERS}"));
    }
    for (i, t) in p.tiers.iter().enumerate() {
        validate_tier(i, t)?;
        if p.tiers[..i].iter().any(|o| o.code == t.code) {
            return bad(format!("tiers[{i}].code: {} appears twice", t.code));
        }
        if i > 0 && t.growth_threshold <= p.tiers[i - 1].growth_threshold {
            return bad(format!(
                "tiers[{i}].growth_threshold: must be above the tier before"
            ));
        }
    }
    let first = &p.tiers[0];
    if first.growth_threshold != 0 || first.spend_threshold_cents.is_some() {
        return bad("tiers[0]: the entry tier needs growth_threshold 0 and no spend threshold");
    }
    if first.upgrade_points != 0 {
        return bad("tiers[0].upgrade_points: nobody upgrades to the entry tier");
    }
    validate_growth(p)?;
    let d = &p.downgrade;
    if policy(p).is_none() {
        return bad("downgrade.policy: never, to_earned or one_step");
    }
    if !(1..=MAX_PERIOD_MONTHS).contains(&d.period_months) {
        return bad(format!("downgrade.period_months: 1 to {MAX_PERIOD_MONTHS}"));
    }
    if !(0..=MAX_WARN_DAYS).contains(&d.warn_days) || d.warn_days >= d.period_months * 28 {
        return bad(format!(
            "downgrade.warn_days: 0 to {MAX_WARN_DAYS} and shorter than the period"
        ));
    }
    if let Some(md) = &p.member_day {
        if MemberDays::parse(&md.day).is_none() {
            return bad("member_day.day: weekday:1-7, monthday:1-31 or week:1-4");
        }
        for (name, v) in [
            ("points_multiplier_pct", md.points_multiplier_pct),
            ("growth_multiplier_pct", md.growth_multiplier_pct),
        ] {
            if !(100..=MAX_MULTIPLIER_PCT).contains(&v) {
                return bad(format!("member_day.{name}: 100 to {MAX_MULTIPLIER_PCT}"));
            }
        }
    }
    Ok(())
}

fn validate_tier(i: usize, t: &TierDef) -> Result<(), ProgramError> {
    if !valid_code(&t.code) {
        return bad(format!("tiers[{i}].code: 1-32 of a-z 0-9 _"));
    }
    if !valid_text(&t.name, 20) {
        return bad(format!("tiers[{i}].name: 1-20 characters"));
    }
    if !valid_color(&t.color) {
        return bad(format!("tiers[{i}].color: #RRGGBB"));
    }
    if !ICONS.contains(&t.icon.as_str()) {
        return bad(format!(
            "tiers[{i}].icon: leaf, star, crown, diamond or empty"
        ));
    }
    if !(0..=1_000_000_000).contains(&t.growth_threshold) {
        return bad(format!("tiers[{i}].growth_threshold: 0 to 1000000000"));
    }
    if let Some(s) = t.spend_threshold_cents {
        if !(1..=1_000_000_000_000).contains(&s) {
            return bad(format!("tiers[{i}].spend_threshold_cents: 1 to 10^12"));
        }
    }
    if !(0..=10_000).contains(&t.points_per_yuan_pct) {
        return bad(format!("tiers[{i}].points_per_yuan_pct: 0 to 10000"));
    }
    if !(0..=1_000_000).contains(&t.upgrade_points) {
        return bad(format!("tiers[{i}].upgrade_points: 0 to 1000000"));
    }
    if t.benefits.len() > MAX_BENEFITS {
        return bad(format!("tiers[{i}].benefits: at most {MAX_BENEFITS}"));
    }
    for (j, b) in t.benefits.iter().enumerate() {
        let at = format!("tiers[{i}].benefits[{j}]");
        let ok = match b.kind.as_str() {
            "discount" => (1..=99).contains(&b.value),
            "birthday_multiplier" => (100..=MAX_MULTIPLIER_PCT).contains(&b.value),
            "custom" => valid_text(&b.text, 40),
            k if BENEFIT_KINDS.contains(&k) => true,
            _ => return bad(format!("{at}.kind: one of {}", BENEFIT_KINDS.join(", "))),
        };
        if !ok {
            return bad(format!(
                "{at}: discount value 1-99, birthday_multiplier value 100-{MAX_MULTIPLIER_PCT}, custom text 1-40 characters"
            ));
        }
    }
    Ok(())
}

fn validate_growth(p: &TierProgram) -> Result<(), ProgramError> {
    let g = &p.growth;
    if !(0..=100).contains(&g.per_yuan) {
        return bad("growth.per_yuan: 0 to 100");
    }
    for (name, v) in [
        ("profile_completed", g.profile_completed),
        ("first_purchase", g.first_purchase),
        ("check_in", g.check_in),
    ] {
        if !(0..=100_000).contains(&v) {
            return bad(format!("growth.{name}: 0 to 100000"));
        }
    }
    if window(p).is_none() {
        return bad(format!(
            "growth.window: lifetime, calendar_year or rolling_months with window_months 1 to {MAX_WINDOW_MONTHS}"
        ));
    }
    let decay_on = g.decay_after_days > 0 || g.decay_per_day > 0;
    if decay_on
        && !((1..=3650).contains(&g.decay_after_days) && (1..=1_000_000).contains(&g.decay_per_day))
    {
        return bad(
            "growth.decay_after_days 1-3650 and growth.decay_per_day 1-1000000 (both or neither)",
        );
    }
    Ok(())
}

/// A successor version may change every number but keeps every tier code, in the same
/// order: members, coupons and mall items refer to them.
pub fn validate_successor(old: &TierProgram, new: &TierProgram) -> Result<(), ProgramError> {
    let positions: Vec<Option<usize>> = old
        .tiers
        .iter()
        .map(|o| new.tiers.iter().position(|n| n.code == o.code))
        .collect();
    if let Some(i) = positions.iter().position(Option::is_none) {
        return bad(format!(
            "tiers: {} is missing (a tier can't be removed, members may hold it)",
            old.tiers[i].code
        ));
    }
    if positions.windows(2).any(|w| w[0] >= w[1]) {
        return bad("tiers: existing tiers must keep their order");
    }
    Ok(())
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

/// Growth and spend over some span (the window, or an evaluation period).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Standing {
    pub growth: i64,
    pub spend_cents: i64,
}

impl Standing {
    pub fn plus(self, other: Standing) -> Standing {
        Standing {
            growth: self.growth.saturating_add(other.growth),
            spend_cents: self.spend_cents.saturating_add(other.spend_cents),
        }
    }
}

fn meets(t: &TierDef, s: Standing) -> bool {
    s.growth >= t.growth_threshold || t.spend_threshold_cents.is_some_and(|c| s.spend_cents >= c)
}

/// The highest tier `s` qualifies for (0, the entry tier, at least).
pub fn reached(p: &TierProgram, s: Standing) -> usize {
    p.tiers.iter().rposition(|t| meets(t, s)).unwrap_or(0)
}

/// Growth towards the next tier: the next tier above `current` not yet met, and what is
/// missing in growth (the spend alternative aside).
pub fn next_tier(p: &TierProgram, current: usize, s: Standing) -> Option<(&TierDef, i64)> {
    p.tiers
        .iter()
        .skip(current + 1)
        .find(|t| !meets(t, s))
        .map(|t| (t, (t.growth_threshold - s.growth).max(1)))
}

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

/// A move up after growth was added: upgrades happen at once and may pass several tiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgrade {
    pub to: usize,
    /// Tiers passed, lowest first, `to` included (each may give its gift).
    pub passed: Vec<usize>,
    pub upgrade_points: i64,
}

/// The upgrade `after` (the window's standing with the new growth) earns a member at
/// `current`, if any. Never lower than `current`.
pub fn upgrade(p: &TierProgram, current: usize, after: Standing) -> Option<Upgrade> {
    let to = reached(p, after);
    (to > current).then(|| {
        let passed: Vec<usize> = (current + 1..=to).collect();
        let upgrade_points = passed
            .iter()
            .filter_map(|&i| p.tiers.get(i))
            .map(|t| t.upgrade_points)
            .sum();
        Upgrade {
            to,
            passed,
            upgrade_points,
        }
    })
}

/// The first day of the month `months` later with the same day (clamped to the month's
/// end: 31 January + 1 month = 28/29 February).
pub fn add_months(date: Date, months: i64) -> Date {
    let first = civil::first_of_month_after(date, months);
    Date {
        day: date.day.min(days_in_month(first.year, first.month)),
        ..first
    }
}

/// When a period that starts at `start` ends (local midnight).
pub fn period_end(start: i64, months: i64) -> i64 {
    civil::local_midnight(add_months(civil::local_date(start), months))
}

/// The last local day of a period ending at `end`.
pub fn last_day(end: i64) -> Date {
    civil::local_date(end - 1)
}

/// When an event at `at` stops counting for the window (`None`: never).
pub fn counts_until(w: Window, at: i64) -> Option<i64> {
    let day = civil::local_date(at);
    match w {
        Window::Lifetime => None,
        Window::RollingMonths(n) => Some(civil::local_midnight(add_months(day, i64::from(n)))),
        Window::CalendarYear => Some(civil::local_midnight(Date {
            year: day.year + 1,
            month: 1,
            day: 1,
        })),
    }
}

/// What an evaluation decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Kept,
    Downgraded,
    /// The period earned more than the tier held (an upgrade had been missed).
    Raised,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kept => "kept",
            Self::Downgraded => "downgraded",
            Self::Raised => "raised",
        }
    }
}

/// The tier after the period: never below what the period earned, never above the
/// tier held unless the period earned more, at most one step down under `one_step`.
pub fn evaluate(p: &TierProgram, current: usize, period: Standing) -> (usize, Verdict) {
    let earned = reached(p, period);
    if earned > current {
        return (earned, Verdict::Raised);
    }
    let to = match policy(p).unwrap_or(Policy::Never) {
        Policy::Never => current,
        Policy::ToEarned => earned,
        Policy::OneStep => earned.max(current.saturating_sub(1)),
    };
    let verdict = if to < current {
        Verdict::Downgraded
    } else {
        Verdict::Kept
    };
    (to, verdict)
}

/// Whether tiers held at `tier` are evaluated at all (the entry tier and the `never`
/// policy have no periods).
pub fn has_periods(p: &TierProgram, tier: usize) -> bool {
    tier > 0 && !matches!(policy(p), Some(Policy::Never) | None)
}

/// What keeping the tier still takes in the current period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keep {
    pub tier: usize,
    pub until: Date,
    pub growth_needed: i64,
}

/// "to keep 金卡 until 2027-06-30, earn 320 more growth": the same rule `evaluate`
/// applies at the period's end (`growth_needed` 0 = kept already).
pub fn keep(
    p: &TierProgram,
    tier: usize,
    period: Standing,
    period_end: Option<i64>,
) -> Option<Keep> {
    let end = period_end?;
    if !has_periods(p, tier) {
        return None;
    }
    let t = p.tiers.get(tier)?;
    let growth_needed = if meets(t, period) {
        0
    } else {
        t.growth_threshold - period.growth
    };
    Some(Keep {
        tier,
        until: last_day(end),
        growth_needed,
    })
}

/// Whether the current period (from `period_start`) began with an upgrade: the latest
/// tier change is an upgrade, and an upgrade starts the period just after itself. A
/// period rolled over by an evaluation has a later `kept` (or `downgraded`) change.
pub fn upgraded_this_period(last_change: Option<(&str, i64)>, period_start: i64) -> bool {
    matches!(last_change, Some(("upgraded", at)) if at.saturating_add(1) >= period_start)
}

/// A warning is due from `warn_days` before the end until the end.
pub fn warning_due(p: &TierProgram, period_end: i64, now: i64) -> bool {
    now < period_end && now >= period_end - p.downgrade.warn_days * civil::DAY_SECS
}

/// Decay owed at `now` by a member with `growth` whose last activity was at
/// `last_active_at` and who has decayed through local day number `decayed_through`:
/// `per_day` for every local day after `decay_after_days` idle days, up to and including
/// today, never more than the growth there is. Returns `(amount, through_day)`.
pub fn decay(
    p: &TierProgram,
    growth: i64,
    last_active_at: i64,
    decayed_through: Option<i64>,
    now: i64,
) -> Option<(i64, i64)> {
    let g = &p.growth;
    if g.decay_after_days <= 0 || g.decay_per_day <= 0 || growth <= 0 {
        return None;
    }
    let day = |t: i64| (t + civil::TZ_OFFSET_SECS).div_euclid(civil::DAY_SECS);
    let today = day(now);
    let first = (day(last_active_at) + g.decay_after_days + 1)
        .max(decayed_through.map_or(i64::MIN, |d| d + 1));
    let days = today - first + 1;
    if days <= 0 {
        return None;
    }
    let amount = days.saturating_mul(g.decay_per_day).min(growth);
    Some((amount, today))
}

/// Tasks that give growth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    ProfileCompleted,
    FirstPurchase,
    CheckIn,
}

impl Task {
    pub const ALL: [Task; 3] = [Task::ProfileCompleted, Task::FirstPurchase, Task::CheckIn];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProfileCompleted => "profile_completed",
            Self::FirstPurchase => "first_purchase",
            Self::CheckIn => "check_in",
        }
    }

    pub fn growth(self, p: &TierProgram) -> i64 {
        match self {
            Self::ProfileCompleted => p.growth.profile_completed,
            Self::FirstPurchase => p.growth.first_purchase,
            Self::CheckIn => p.growth.check_in,
        }
    }

    /// The period a task is done once in: ever, or the local day for check-ins.
    pub fn period(self, now: i64) -> String {
        match self {
            Self::CheckIn => civil::iso(civil::local_date(now)),
            _ => String::new(),
        }
    }
}

/// Monday = 1 … Sunday = 7 (re-exported for the apps' member-day wording).
pub fn weekday_of(date: Date) -> u32 {
    weekday(date)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_period_begun_by_an_upgrade_reads_as_one() {
        assert!(upgraded_this_period(Some(("upgraded", 100)), 101));
        assert!(!upgraded_this_period(Some(("upgraded", 100)), 5000));
        assert!(!upgraded_this_period(Some(("kept", 5000)), 4999));
        assert!(!upgraded_this_period(None, 101));
    }
    use crate::dto::{DowngradeRules, GrowthRules, MemberDayRule, TierBenefit};
    use proptest::prelude::*;

    fn tier(code: &str, th: i64, rate: i64) -> TierDef {
        TierDef {
            code: code.into(),
            name: code.to_uppercase(),
            color: String::new(),
            icon: String::new(),
            growth_threshold: th,
            spend_threshold_cents: None,
            points_per_yuan_pct: rate,
            benefits: Vec::new(),
            upgrade_points: 0,
        }
    }

    fn program(policy: &str) -> TierProgram {
        let mut gold = tier("gold", 2000, 150);
        gold.benefits.push(TierBenefit {
            kind: "birthday_multiplier".into(),
            value: 200,
            text: String::new(),
        });
        gold.upgrade_points = 300;
        let mut silver = tier("silver", 500, 120);
        silver.spend_threshold_cents = Some(40_000);
        silver.upgrade_points = 100;
        TierProgram {
            tiers: vec![
                tier("normal", 0, 100),
                silver,
                gold,
                tier("diamond", 8000, 200),
            ],
            growth: GrowthRules {
                decay_after_days: 30,
                decay_per_day: 5,
                ..GrowthRules::default()
            },
            downgrade: DowngradeRules {
                policy: policy.into(),
                period_months: 12,
                warn_days: 30,
            },
            member_day: Some(MemberDayRule {
                day: "monthday:18".into(),
                points_multiplier_pct: 200,
                growth_multiplier_pct: 150,
            }),
        }
    }

    fn at(y: i64, m: u32, d: u32, hour: i64) -> i64 {
        civil::local_midnight(Date {
            year: y,
            month: m,
            day: d,
        }) + hour * 3600
    }

    fn cents(v: i64) -> Cents {
        Cents::paid(v).unwrap()
    }

    #[test]
    fn validates_the_dev_shapes() {
        for policy in ["never", "to_earned", "one_step"] {
            validate(&program(policy)).unwrap();
        }
        let mut p = program("to_earned");
        p.tiers[2].growth_threshold = 500;
        assert!(validate(&p)
            .unwrap_err()
            .0
            .contains("tiers[2].growth_threshold"));
        let mut p = program("to_earned");
        p.tiers[0].growth_threshold = 1;
        assert!(validate(&p).is_err());
        let mut p = program("sometimes");
        assert!(validate(&p).is_err());
        p = program("never");
        p.growth.window = "rolling_months".into();
        assert!(validate(&p).is_err());
        p.growth.window_months = 12;
        validate(&p).unwrap();
        p.tiers[1].code = "Silver".into();
        assert!(validate(&p).is_err());
    }

    #[test]
    fn successors_keep_codes_and_order() {
        let old = program("never");
        let mut new = program("one_step");
        new.tiers[2].growth_threshold = 2500;
        validate_successor(&old, &new).unwrap();
        new.tiers.insert(2, tier("platinum", 1000, 130));
        validate_successor(&old, &new).unwrap();
        let mut swapped = program("never");
        swapped.tiers.swap(1, 2);
        assert!(validate_successor(&old, &swapped).is_err());
        let mut fewer = program("never");
        fewer.tiers.pop();
        assert!(validate_successor(&old, &fewer).is_err());
    }

    #[test]
    fn member_day_and_birthday_month_multiply() {
        let p = program("never");
        let plain = earn(&p, 2, cents(10_000), at(2026, 5, 17, 12), None);
        assert_eq!((plain.points, plain.growth), (150, 100));
        let md = earn(&p, 2, cents(10_000), at(2026, 5, 18, 12), None);
        assert_eq!((md.points, md.growth, md.member_day), (300, 150, true));
        let bd = Birthday::new(5, 2);
        let both = earn(&p, 2, cents(10_000), at(2026, 5, 18, 12), bd);
        assert_eq!((both.points, both.birthday_month), (600, true));
        // Silver has no birthday benefit.
        let silver = earn(&p, 1, cents(10_000), at(2026, 5, 1, 12), bd);
        assert_eq!((silver.points, silver.birthday_month), (120, false));
        let week = MemberDays::parse("week:3").unwrap();
        assert!(week.is_on(Date {
            year: 2026,
            month: 2,
            day: 15
        }));
        assert!(!week.is_on(Date {
            year: 2026,
            month: 2,
            day: 22
        }));
    }

    #[test]
    fn upgrades_pass_every_tier_and_sum_their_points() {
        let p = program("never");
        let u = upgrade(
            &p,
            0,
            Standing {
                growth: 2100,
                spend_cents: 0,
            },
        )
        .unwrap();
        assert_eq!(
            (u.to, u.passed.clone(), u.upgrade_points),
            (2, vec![1, 2], 400)
        );
        // The spend alternative reaches silver alone.
        let u = upgrade(
            &p,
            0,
            Standing {
                growth: 10,
                spend_cents: 40_000,
            },
        )
        .unwrap();
        assert_eq!(u.to, 1);
        assert!(upgrade(
            &p,
            2,
            Standing {
                growth: 2100,
                spend_cents: 0
            }
        )
        .is_none());
    }

    #[test]
    fn periods_and_keep_dates() {
        let start = at(2026, 7, 1, 15);
        let end = period_end(start, 12);
        assert_eq!(end, at(2027, 7, 1, 0));
        assert_eq!(civil::iso(last_day(end)), "2027-06-30");
        assert_eq!(period_end(at(2026, 1, 31, 9), 1), at(2026, 2, 28, 0));
        let p = program("to_earned");
        let k = keep(
            &p,
            2,
            Standing {
                growth: 1680,
                spend_cents: 0,
            },
            Some(end),
        )
        .unwrap();
        assert_eq!(
            (k.growth_needed, civil::iso(k.until)),
            (320, "2027-06-30".into())
        );
        assert!(keep(&p, 0, Standing::default(), Some(end)).is_none());
        assert!(keep(&program("never"), 2, Standing::default(), Some(end)).is_none());
        assert!(warning_due(&p, end, end - 30 * civil::DAY_SECS));
        assert!(!warning_due(&p, end, end - 31 * civil::DAY_SECS));
        assert!(!warning_due(&p, end, end));
    }

    #[test]
    fn evaluation_policies() {
        let s = |g| Standing {
            growth: g,
            spend_cents: 0,
        };
        let p = program("to_earned");
        assert_eq!(evaluate(&p, 3, s(600)), (1, Verdict::Downgraded));
        assert_eq!(evaluate(&p, 2, s(2000)), (2, Verdict::Kept));
        assert_eq!(evaluate(&p, 1, s(2500)), (2, Verdict::Raised));
        let p = program("one_step");
        assert_eq!(evaluate(&p, 3, s(0)), (2, Verdict::Downgraded));
        assert_eq!(evaluate(&p, 1, s(0)), (0, Verdict::Downgraded));
        let p = program("never");
        assert_eq!(evaluate(&p, 3, s(0)), (3, Verdict::Kept));
    }

    #[test]
    fn windows() {
        let e = at(2026, 1, 15, 20);
        assert_eq!(counts_until(Window::Lifetime, e), None);
        assert_eq!(
            counts_until(Window::RollingMonths(12), e),
            Some(at(2027, 1, 15, 0))
        );
        assert_eq!(
            counts_until(Window::CalendarYear, e),
            Some(at(2027, 1, 1, 0))
        );
    }

    #[test]
    fn decay_counts_idle_days_once() {
        let p = program("never");
        let active = at(2026, 3, 1, 10);
        assert_eq!(decay(&p, 100, active, None, at(2026, 3, 31, 23)), None);
        let (amount, through) = decay(&p, 100, active, None, at(2026, 4, 2, 1)).unwrap();
        assert_eq!(amount, 10); // 1 and 2 April
        assert_eq!(
            decay(&p, 90, active, Some(through), at(2026, 4, 2, 22)),
            None
        );
        let (a2, _) = decay(&p, 90, active, Some(through), at(2026, 4, 3, 1)).unwrap();
        assert_eq!(a2, 5);
        let (all, _) = decay(&p, 7, active, None, at(2027, 1, 1, 1)).unwrap();
        assert_eq!(all, 7);
    }

    proptest! {
        #[test]
        fn upgrade_never_skipped(cur in 0usize..4, g in 0i64..20_000, spend in 0i64..100_000) {
            let p = program("to_earned");
            let s = Standing { growth: g, spend_cents: spend };
            let target = reached(&p, s);
            match upgrade(&p, cur, s) {
                Some(u) => {
                    prop_assert_eq!(u.to, target);
                    prop_assert!(u.to > cur);
                    prop_assert_eq!(u.passed.len(), u.to - cur);
                }
                None => prop_assert!(target <= cur),
            }
        }

        #[test]
        fn downgrade_never_below_earned(
            cur in 0usize..4, g in 0i64..20_000, spend in 0i64..100_000,
            policy in prop::sample::select(vec!["never", "to_earned", "one_step"]),
        ) {
            let p = program(policy);
            let s = Standing { growth: g, spend_cents: spend };
            let (to, verdict) = evaluate(&p, cur, s);
            prop_assert!(to >= reached(&p, s));
            prop_assert!(to <= cur.max(reached(&p, s)));
            if policy == "one_step" { prop_assert!(to + 1 >= cur); }
            if policy == "never" { prop_assert!(to >= cur); }
            prop_assert_eq!(verdict == Verdict::Downgraded, to < cur);
        }

        #[test]
        fn keep_agrees_with_evaluate(cur in 1usize..4, g in 0i64..20_000) {
            let p = program("to_earned");
            let s = Standing { growth: g, spend_cents: 0 };
            let k = keep(&p, cur, s, Some(at(2027, 7, 1, 0))).unwrap();
            let (to, _) = evaluate(&p, cur, s);
            prop_assert_eq!(k.growth_needed == 0, to >= cur);
            if k.growth_needed > 0 {
                let more = Standing { growth: g + k.growth_needed, spend_cents: 0 };
                prop_assert!(evaluate(&p, cur, more).0 >= cur);
                let less = Standing { growth: g + k.growth_needed - 1, spend_cents: 0 };
                prop_assert!(evaluate(&p, cur, less).0 < cur);
            }
        }

        #[test]
        fn decay_is_never_negative_nor_more_than_growth(
            growth in 0i64..10_000, idle in 0i64..2_000, through_back in 0i64..100,
        ) {
            let p = program("never");
            let active = at(2026, 1, 1, 12);
            let now = active + idle * civil::DAY_SECS;
            let today = (now + civil::TZ_OFFSET_SECS).div_euclid(civil::DAY_SECS);
            if let Some((amount, through)) = decay(&p, growth, active, Some(today - through_back), now) {
                prop_assert!(amount > 0 && amount <= growth);
                prop_assert!(amount <= through_back * p.growth.decay_per_day);
                prop_assert_eq!(through, today);
                prop_assert!(decay(&p, growth - amount, active, Some(through), now).is_none());
            }
        }

        #[test]
        fn a_new_version_changes_nothing_before_its_start(
            starts in prop::collection::vec(0i64..1_000, 1..6), new_start in 0i64..1_000, t in 0i64..1_000,
        ) {
            let mut versions: Vec<(i64, i64, u8)> =
                starts.iter().enumerate().map(|(i, s)| (i as i64, *s, 0)).collect();
            let before = in_effect(&versions, t).map(|v| (v.0, v.1));
            versions.push((versions.len() as i64, new_start, 1));
            let after = in_effect(&versions, t).map(|v| (v.0, v.1));
            if t < new_start {
                prop_assert_eq!(before, after);
            } else if before.is_none_or(|(_, s)| new_start >= s) {
                prop_assert_eq!(after, Some((versions.len() as i64 - 1, new_start)));
            } else {
                // A later-starting version already in effect stays in effect.
                prop_assert_eq!(before, after);
            }
        }

        #[test]
        fn events_count_for_the_whole_window(day in 0i64..20_000, hour in 0i64..24, n in 1u32..36) {
            let e = day * civil::DAY_SECS + hour * 3600;
            let until = counts_until(Window::RollingMonths(n), e).unwrap();
            prop_assert!(until > e);
            // At least n*28 days, at most n*31 + 1.
            prop_assert!(until - e >= i64::from(n) * 28 * civil::DAY_SECS - civil::DAY_SECS);
            prop_assert!(until - e <= (i64::from(n) * 31 + 1) * civil::DAY_SECS);
            let y = counts_until(Window::CalendarYear, e).unwrap();
            prop_assert_eq!(civil::local_date(y).day, 1);
            prop_assert_eq!(civil::local_date(y).month, 1);
        }

        #[test]
        fn the_tills_rates_give_what_earn_gives(paid in 0i64..10_000_000, tier in 0usize..4, day in 1u32..29, bmonth in 1u32..13) {
            let p = program("never");
            let at = at(2026, 5, day, 12);
            let bd = Birthday::new(bmonth, 1);
            let e = earn(&p, tier, cents(paid), at, bd);
            let r = earn_rates(&p, tier, at, bd);
            prop_assert_eq!(e.points, points_at(paid, p.tiers[tier].points_per_yuan_pct, &r.points_multiplier_pcts));
            prop_assert_eq!(e.growth, growth_at(paid, r.growth_per_yuan, r.growth_multiplier_pct));
        }

        #[test]
        fn points_never_beat_the_rates(paid in 0i64..10_000_000, tier in 0usize..4, day in 1u32..29) {
            let p = program("never");
            let e = earn(&p, tier, cents(paid), at(2026, 5, day, 12), Birthday::new(5, 1));
            let max = paid * p.tiers[tier].points_per_yuan_pct * 4 / 10_000;
            prop_assert!(e.points >= 0 && e.points <= max);
            prop_assert!(e.growth >= 0 && e.growth <= paid / 100 * 3 / 2);
        }
    }
}

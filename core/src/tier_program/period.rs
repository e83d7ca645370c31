//! Evaluation periods: when they end, what keeping the tier takes, the verdict at the
//! end, the growth window and decay.

use super::program::{policy, Policy, Window};
use super::standing::{reached, Standing};
use crate::civil::{self, days_in_month, Date};
use crate::dto::TierProgram;

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
    let growth_needed = if super::standing::meets(t, period) {
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

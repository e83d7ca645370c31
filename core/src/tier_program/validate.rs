//! Whether a program version may be saved: on its own, and as the successor of the
//! version before it.

use super::program::{
    policy, window, MemberDays, BENEFIT_KINDS, ICONS, MAX_BENEFITS, MAX_MULTIPLIER_PCT,
    MAX_PERIOD_MONTHS, MAX_TIERS, MAX_WARN_DAYS, MAX_WINDOW_MONTHS,
};
use crate::dto::{TierDef, TierProgram};

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

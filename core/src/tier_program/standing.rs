//! Where growth and spend put a member: the tier reached, the next one, the upgrade.

use crate::dto::{TierDef, TierProgram};

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

pub(super) fn meets(t: &TierDef, s: Standing) -> bool {
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

//! Turning rows into wire DTOs.

use member_core::dto::{MeView, MemberSummary, NextTierView, TierRef};
use member_core::phone::Phone;
use member_core::tiers::{next_tier, progress_permille, TierRule};

use crate::db::members::MemberRow;

pub fn tier_ref(tiers: &[TierRule], code: &str) -> TierRef {
    TierRef {
        code: code.to_string(),
        name: tiers
            .iter()
            .find(|t| t.code == code)
            .map_or_else(|| code.to_string(), |t| t.name.clone()),
    }
}

/// Stored phones are E.164 written by us; anything else is shown fully masked.
pub fn masked_phone(stored: &str) -> String {
    Phone::parse(stored).map_or_else(|_| "****".to_string(), |p| p.masked())
}

pub fn me_view(m: &MemberRow, tiers: &[TierRule], new_member: bool) -> MeView {
    MeView {
        member_no: m.member_no.clone(),
        name: m.name.clone(),
        phone_masked: masked_phone(&m.phone),
        tier: tier_ref(tiers, &m.tier_code),
        points: m.points,
        growth: m.growth,
        next_tier: next_tier(tiers, &m.tier_code, m.growth).map(|n| NextTierView {
            code: n.tier.code.clone(),
            name: n.tier.name.clone(),
            growth_needed: n.growth_needed,
        }),
        progress_permille: progress_permille(tiers, &m.tier_code, m.growth),
        marketing_consent: m.marketing_consent != 0,
        new_member,
        expiring: None,
    }
}

pub fn member_summary(m: &MemberRow, tier_name: &str) -> MemberSummary {
    MemberSummary {
        member_no: m.member_no.clone(),
        name: m.name.clone(),
        phone_masked: masked_phone(&m.phone),
        tier: TierRef {
            code: m.tier_code.clone(),
            name: tier_name.to_string(),
        },
        points: m.points,
        growth: m.growth,
    }
}

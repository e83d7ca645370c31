//! Turning rows into wire DTOs.

use member_core::civil;
use member_core::dto::{ExpiringPoints, MeView, MemberSummary, NextTierView, TierRef};
use member_core::phone::Phone;
use member_core::points::{last_valid_day, next_expiry, Batch};
use member_core::tiers::{next_tier, progress_permille, TierRule};

use crate::clock::rfc3339;
use crate::members::store::members::MemberRow;

/// "N 分将于 …过期" is shown only when that day is this close: a notice about points
/// valid for another year is noise, two months ahead is enough time to spend them.
pub const EXPIRING_NOTICE_SECS: i64 = 60 * civil::DAY_SECS;

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
        coupons_usable: 0,
        coupons_new: 0,
        keep: None,
        notifications_unread: 0,
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

/// What the member's batches change in `/me`: the balance is what can be spent now (due
/// points the expiry job has not reached yet are already gone for spending, so they are
/// not shown either), and the next points to expire when they expire within
/// `EXPIRING_NOTICE_SECS`.
pub fn apply_batches(view: &mut MeView, batches: &[Batch], now: i64) {
    let due: i64 = batches
        .iter()
        .filter(|b| b.is_due(now))
        .map(|b| b.remaining)
        .sum();
    view.points = (view.points - due).max(0);
    view.expiring = next_expiry(batches, now)
        .filter(|(at, _)| *at - now <= EXPIRING_NOTICE_SECS)
        .map(|(at, points)| ExpiringPoints {
            points,
            at: rfc3339(at),
            last_day: civil::iso(last_valid_day(at)),
        });
}

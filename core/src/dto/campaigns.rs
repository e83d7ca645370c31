//! The brand's coupon templates, campaigns, claim links and manual issue; and the small answers of its console (created ids, the dev outbox).

use serde::{Deserialize, Serialize};

use super::coupons::{CouponBenefit, CouponView};
use super::defaults::one;
use super::nullable;

wire! {
    /// POST /api/v1/admin/coupon-templates. Validity: `valid_days` (from issue), or
    /// `valid_from` + `valid_until` (RFC 3339).
    pub struct NewCouponTemplate {
        pub name: String,
        #[serde(default)]
        pub description: String,
        pub benefit: CouponBenefit,
        #[serde(default)]
        pub min_spend_cents: i64,
        #[serde(default)]
        pub stackable: bool,
        #[serde(default)]
        pub store_codes: Vec<String>,
        #[serde(default)]
        pub valid_from: Option<String>,
        #[serde(default)]
        pub valid_until: Option<String>,
        #[serde(default)]
        pub valid_days: Option<i64>,
        /// Coupons of this template that may ever be issued; none = unlimited.
        #[serde(default)]
        pub total_limit: Option<i64>,
        /// Coupons of this template one member may ever receive.
        #[serde(default)]
        pub per_member_limit: Option<i64>,
        /// Only members of this tier or higher receive it.
        #[serde(default)]
        pub required_tier: Option<String>,
    }

    /// PATCH /api/v1/admin/coupon-templates/{id}. The benefit and rules of issued
    /// coupons never change; only these can.
    pub struct CouponTemplatePatch {
        #[serde(default)]
        pub name: Option<String>,
        #[serde(default)]
        pub description: Option<String>,
        #[serde(default)]
        pub active: Option<bool>,
        /// `null` removes the limit; never below what was issued.
        #[serde(default, with = "nullable")]
        pub total_limit: Option<Option<i64>>,
        #[serde(default, with = "nullable")]
        pub per_member_limit: Option<Option<i64>>,
    }

    pub struct AdminCouponTemplate {
        pub id: i64,
        pub name: String,
        pub description: String,
        pub benefit: CouponBenefit,
        pub min_spend_cents: i64,
        pub stackable: bool,
        pub store_codes: Vec<String>,
        pub valid_from: Option<String>,
        pub valid_until: Option<String>,
        pub valid_days: Option<i64>,
        pub total_limit: Option<i64>,
        pub per_member_limit: Option<i64>,
        pub required_tier: Option<String>,
        pub active: bool,
        pub issued: i64,
        pub used: i64,
        pub created_at: String,
    }

    pub struct CampaignCoupon {
        pub template_id: i64,
        #[serde(default = "one")]
        pub quantity: i64,
    }

    /// POST /api/v1/admin/campaigns. `kind` and what it needs:
    /// `signup`; `upgrade` + `tier_code` (the tier reached); `birthday` +
    /// `birthday_window` (`month`|`week`); `member_day` + `member_day`
    /// (`weekday:1..7`|`monthday:1..31`); `winback` + `lapse_days`; `claim` (a link,
    /// optional `total_cap` members).
    pub struct NewCampaign {
        pub kind: String,
        pub name: String,
        pub coupons: Vec<CampaignCoupon>,
        #[serde(default)]
        pub tier_code: Option<String>,
        #[serde(default)]
        pub birthday_window: Option<String>,
        #[serde(default)]
        pub member_day: Option<String>,
        #[serde(default)]
        pub lapse_days: Option<i64>,
        #[serde(default)]
        pub total_cap: Option<i64>,
        #[serde(default)]
        pub starts_at: Option<String>,
        #[serde(default)]
        pub ends_at: Option<String>,
    }

    /// PATCH /api/v1/admin/campaigns/{id}
    pub struct CampaignPatch {
        #[serde(default)]
        pub name: Option<String>,
        #[serde(default)]
        pub active: Option<bool>,
        #[serde(default, with = "nullable")]
        pub ends_at: Option<Option<String>>,
        #[serde(default, with = "nullable")]
        pub total_cap: Option<Option<i64>>,
    }

    pub struct CampaignStats {
        /// Members who received the campaign.
        pub members: i64,
        pub coupons_issued: i64,
        pub coupons_used: i64,
        pub discount_cents: i64,
        /// Win-back: members who bought again after receiving it.
        pub returned: i64,
    }

    pub struct AdminCampaign {
        pub id: i64,
        pub kind: String,
        pub name: String,
        pub active: bool,
        pub coupons: Vec<CampaignCoupon>,
        pub tier_code: Option<String>,
        pub birthday_window: Option<String>,
        pub member_day: Option<String>,
        pub lapse_days: Option<i64>,
        /// Claim links: the token and the path to print as QR (`/claim/{token}`).
        pub claim_token: Option<String>,
        pub claim_path: Option<String>,
        pub total_cap: Option<i64>,
        pub starts_at: Option<String>,
        pub ends_at: Option<String>,
        pub created_at: String,
        pub stats: CampaignStats,
    }

    /// GET /api/v1/claims/{token}: what a claim link gives (no sign-in needed).
    pub struct ClaimView {
        pub name: String,
        pub coupons: Vec<ClaimCoupon>,
        /// Members who can still claim, when capped.
        pub remaining: Option<i64>,
        pub open: bool,
        /// Signed in and claimed already.
        pub claimed: bool,
    }

    pub struct ClaimCoupon {
        pub name: String,
        pub benefit: CouponBenefit,
        pub min_spend_cents: i64,
        pub quantity: i64,
    }

    /// POST /api/v1/me/claims/{token}: the coupons now in the wallet; claiming again
    /// answers the same coupons with `already_claimed`.
    pub struct ClaimResult {
        pub coupons: Vec<CouponView>,
        pub already_claimed: bool,
    }

    /// POST /api/v1/admin/coupons/issue (with an Idempotency-Key header): to listed
    /// members, or to a segment.
    pub struct IssueCouponsRequest {
        pub template_id: i64,
        #[serde(default = "one")]
        pub quantity: i64,
        #[serde(default)]
        pub member_nos: Vec<String>,
        #[serde(default)]
        pub segment: Option<Segment>,
        pub reason: String,
    }

    /// Members to issue to: all of them, or those of a tier (and higher) and/or those
    /// whose last purchase is at least `lapsing_days` ago.
    pub struct Segment {
        #[serde(default)]
        pub all: bool,
        #[serde(default)]
        pub min_tier: Option<String>,
        #[serde(default)]
        pub lapsing_days: Option<i64>,
    }

    pub struct IssueSkip {
        pub member_no: String,
        /// An error code: `not_found`, `limit_reached`, `coupons_exhausted`, `tier_required`
        pub reason: String,
    }

    pub struct IssueCouponsResult {
        /// The manual campaign that records this issue (its stats show use).
        pub campaign_id: i64,
        pub members: i64,
        pub issued_members: i64,
        pub coupons_issued: i64,
        pub skipped_count: i64,
        /// The first 100 skipped members and why.
        pub skipped: Vec<IssueSkip>,
    }

    /// 201 from POST /api/v1/admin/mall/items
    pub struct Created {
        pub id: i64,
    }

    /// GET /api/v1/dev/outbox (only with --dev)
    pub struct OutboxMessage {
        pub to: String,
        pub text: String,
        pub code: String,
        pub at: String,
    }
}

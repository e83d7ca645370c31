//! The till: verifying a card, the checkout preview, recording a purchase, refunds and finding a member.

use serde::{Deserialize, Serialize};

use super::coupons::CouponView;
use super::tiers::TierRef;

wire! {
    /// POST /api/v1/staff/verify
    pub struct StaffVerifyRequest {
        pub code: String,
    }

    /// What a cashier sees after scanning: no full phone number.
    pub struct MemberSummary {
        pub member_no: String,
        pub name: String,
        pub phone_masked: String,
        pub tier: TierRef,
        pub points: i64,
        pub growth: i64,
    }

    /// POST /api/v1/staff/purchases (with an Idempotency-Key header). The member is
    /// named by the card's `code`, or, when they could not show one, by `member_no` with
    /// the `lookup_token` a look-up by phone gave this staff session just before.
    pub struct PurchaseRequest {
        #[serde(default)]
        pub code: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub member_no: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub lookup_token: Option<String>,
        pub amount_cents: i64,
        pub order_ref: String,
        #[serde(default)]
        pub coupon_ids: Option<Vec<i64>>,
    }

    pub struct PurchaseResult {
        pub member_no: String,
        /// Points the purchase earned, in full (its ledger row).
        pub points_earned: i64,
        pub growth_earned: i64,
        /// The balance after: lower than before + earned when part of the earned points
        /// paid off points an earlier refund could not take back (a separate `refund`
        /// row in the history).
        pub points: i64,
        pub growth: i64,
        pub tier: TierRef,
        pub upgraded: bool,
        /// Taken off by the coupons; points and growth are earned on what was paid.
        pub discount_cents: i64,
        /// `amount_cents - discount_cents`: what the member paid.
        #[serde(default)]
        pub payable_cents: i64,
        /// The coupons used, in the order they applied.
        #[serde(default)]
        pub coupons_used: Vec<QuoteLineView>,
        /// Names of the coupons an upgrade put in the wallet (upgrade gift pack).
        #[serde(default)]
        pub gift_pack: Vec<String>,
        /// Points an upgrade gave (the tiers' `upgrade_points`), in `points` already.
        #[serde(default)]
        pub upgrade_points: i64,
        /// Growth a one-time task gave with this purchase (the first purchase).
        #[serde(default)]
        pub task_growth: i64,
        /// The member-day multipliers applied.
        #[serde(default)]
        pub member_day: bool,
        /// The tier's birthday-month points multiplier applied.
        #[serde(default)]
        pub birthday_month: bool,
        /// Points the member received because a friend invited them (first purchase).
        #[serde(default)]
        pub referral_points: i64,
    }

    /// POST /api/v1/staff/refunds (with an Idempotency-Key header): a purchase of this
    /// store was returned; the points it earned are taken back.
    pub struct RefundRequest {
        pub order_ref: String,
        pub reason: String,
        /// Part of what was paid to refund (fen); absent: all that is not refunded yet.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub amount_cents: Option<i64>,
    }

    pub struct RefundResult {
        pub order_ref: String,
        pub points_clawed_back: i64,
        /// Points the member had already spent, so could not be taken back.
        /// It is kept as the member's debt: later credits (a cancelled order's points,
        /// purchases, positive adjustments) pay it off first.
        pub shortfall: i64,
        pub growth_clawed_back: i64,
        pub points: i64,
        /// Coupons the purchase used that went back to the wallet (refunds on the day
        /// of the purchase only).
        #[serde(default)]
        pub coupons_restored: i64,
        /// Refunded by this refund (fen).
        #[serde(default)]
        pub amount_cents: i64,
        /// What the member paid for the purchase.
        #[serde(default)]
        pub paid_cents: i64,
        /// Refunded so far, this refund included.
        #[serde(default)]
        pub refunded_cents: i64,
        /// Nothing is left to refund.
        #[serde(default)]
        pub fully_refunded: bool,
    }

    /// A purchase of the manager's store, for the refund screen.
    pub struct StaffPurchaseView {
        pub order_ref: String,
        pub member_no: String,
        pub member_name: String,
        pub phone_masked: String,
        pub amount_cents: i64,
        pub discount_cents: i64,
        /// `amount_cents - discount_cents`.
        pub paid_cents: i64,
        pub refunded_cents: i64,
        pub points_earned: i64,
        /// Points taken back by its refunds so far.
        pub points_clawed_back: i64,
        /// RFC 3339, UTC.
        pub created_at: String,
        pub fully_refunded: bool,
    }

    /// GET /api/v1/staff/purchases: newest first; `next` is the `before` of the next page.
    pub struct StaffPurchasePage {
        pub items: Vec<StaffPurchaseView>,
        pub next: Option<i64>,
    }

    /// POST /api/v1/staff/members/lookup: a full phone number (11 digits) or member
    /// number (10 digits), for a member who can't show their card.
    pub struct MemberLookupRequest {
        pub query: String,
    }

    pub struct MemberLookupResult {
        pub member: MemberSummary,
        /// Stands in for the card code (with `member_no`) in this staff session only.
        pub lookup_token: String,
        pub expires_in_secs: i64,
    }

    /// POST /api/v1/staff/checkout/preview: the member's coupons and what the basket
    /// would cost with `coupon_ids`. No side effect (the card code is not spent).
    /// Like the purchase: `code`, or `member_no` + `lookup_token`.
    pub struct CheckoutPreviewRequest {
        #[serde(default)]
        pub code: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub member_no: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub lookup_token: Option<String>,
        /// The basket so far; 0 before the cashier has typed an amount.
        pub amount_cents: i64,
        #[serde(default)]
        pub coupon_ids: Vec<i64>,
    }

    pub struct CheckoutCoupon {
        pub coupon: CouponView,
        /// Usable on its own for this basket in this store now.
        pub usable: bool,
        /// The error code a purchase with it would get, when not usable.
        pub refusal: Option<String>,
    }

    pub struct QuoteLineView {
        pub coupon_id: i64,
        pub name: String,
        pub discount_cents: i64,
        /// The item to hand over, for a gift coupon.
        pub gift: Option<String>,
    }

    pub struct QuoteView {
        pub basket_cents: i64,
        pub discount_cents: i64,
        pub payable_cents: i64,
        pub lines: Vec<QuoteLineView>,
        /// Points the purchase would earn (on `payable_cents`).
        pub points_earned: i64,
    }

    pub struct CheckoutPreview {
        pub member: MemberSummary,
        pub store_code: String,
        /// The server's clock, so the app's own preview judges dates the same way.
        pub server_unix: i64,
        /// The member's unused coupons (usable ones first, soonest expiry first).
        pub coupons: Vec<CheckoutCoupon>,
        pub quote: QuoteView,
        /// How this member earns right now, so the till's own preview matches the
        /// purchase: `tier_program::points_at(paid, tier rate, points_multiplier_pcts)`.
        #[serde(default)]
        pub earn: EarnRates,
    }

    /// The member-day and birthday-month multipliers in force for a member at a moment.
    #[derive(Default)]
    pub struct EarnRates {
        /// Each applies in turn (member day, birthday month); empty = none.
        pub points_multiplier_pcts: Vec<i64>,
        pub growth_per_yuan: i64,
        /// 100 = none.
        pub growth_multiplier_pct: i64,
    }
}

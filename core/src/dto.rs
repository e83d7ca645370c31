//! The wire contract (v1): request and response bodies shared by the server and the app.
//! Times are RFC 3339 strings in UTC; money is integer fen; points and growth integers.

use serde::{Deserialize, Serialize};

macro_rules! wire {
    ($($item:item)*) => {
        $(
            #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
            #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
            $item
        )*
    };
}

wire! {
    /// `{"error":{"code","message"}}`
    pub struct ErrorBody {
        pub error: ErrorDetail,
    }

    pub struct ErrorDetail {
        /// snake_case, stable: clients branch on it.
        pub code: String,
        /// Human text for logs and fallback display.
        pub message: String,
    }

    pub struct Health {
        pub status: String,
    }

    /// POST /api/v1/auth/otp
    pub struct OtpRequest {
        pub phone: String,
    }

    /// 202 from POST /api/v1/auth/otp
    pub struct OtpSent {
        /// Seconds until another code may be requested for this phone.
        pub resend_after_secs: i64,
        /// Seconds the code stays valid.
        pub expires_in_secs: i64,
    }

    /// POST /api/v1/auth/verify
    pub struct VerifyOtpRequest {
        pub phone: String,
        pub code: String,
        /// Needed only when the phone is not a member yet.
        #[serde(default)]
        pub name: Option<String>,
        pub privacy_consent: bool,
        #[serde(default)]
        pub marketing_consent: bool,
    }

    pub struct TierRef {
        pub code: String,
        pub name: String,
    }

    pub struct NextTierView {
        pub code: String,
        pub name: String,
        pub growth_needed: i64,
    }

    /// GET /api/v1/me, and the body of a successful POST /api/v1/auth/verify.
    pub struct MeView {
        pub member_no: String,
        pub name: String,
        pub phone_masked: String,
        pub tier: TierRef,
        pub points: i64,
        pub growth: i64,
        pub next_tier: Option<NextTierView>,
        /// 0..=1000 towards `next_tier` (1000 at the top tier).
        pub progress_permille: i64,
        pub marketing_consent: bool,
        /// True when this verify created the account.
        #[serde(default)]
        pub new_member: bool,
        /// The next points to expire ("120 分将于 12月31日 过期"); absent when none do.
        #[serde(default)]
        pub expiring: Option<ExpiringPoints>,
    }

    pub struct ExpiringPoints {
        pub points: i64,
        /// The instant they expire (RFC 3339, UTC).
        pub at: String,
        /// The last local day (Asia/Shanghai) they can be spent: `YYYY-MM-DD`.
        pub last_day: String,
    }

    /// GET /api/v1/me/card-code: the current code, for clients that don't compute it.
    pub struct CardCodeView {
        pub code: String,
        pub expires_at: String,
    }

    /// GET /api/v1/me/card-key: what the device needs to show valid codes offline.
    pub struct CardKeyView {
        pub member_no: String,
        /// 64 hex chars (32 bytes).
        pub key_hex: String,
        pub step_secs: i64,
        /// Server's unix time when answering, so the app can correct its clock drift.
        pub server_unix: i64,
    }

    /// POST /api/v1/staff/login and /api/v1/admin/login
    pub struct StaffLoginRequest {
        pub username: String,
        pub password: String,
    }

    pub struct StaffView {
        pub username: String,
        pub display_name: String,
        /// `cashier`, `manager` or `admin`.
        pub role: String,
        pub store_code: Option<String>,
        pub store_name: Option<String>,
    }

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

    /// POST /api/v1/staff/purchases (with an Idempotency-Key header)
    pub struct PurchaseRequest {
        pub code: String,
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
        pub discount_cents: i64,
    }

    /// GET /api/v1/me/points/history?cursor=…
    pub struct PointsHistory {
        pub items: Vec<LedgerItem>,
        /// Opaque cursor for the next page, absent on the last page.
        pub next: Option<String>,
    }

    pub struct LedgerItem {
        /// `earn`, `redeem`, `expire`, `adjust`, `refund`
        pub kind: String,
        /// Signed: negative for redeem/expire (and a refund's claw-back).
        pub points: i64,
        pub reason: String,
        pub at: String,
        pub store_name: Option<String>,
        /// For earned points: when they expire (RFC 3339), if they do.
        #[serde(default)]
        pub expires_at: Option<String>,
    }

    /// An item in the points mall, as the signed-in member sees it
    /// (GET /api/v1/mall/items, GET /api/v1/mall/items/{id}).
    pub struct MallItem {
        pub id: i64,
        pub name: String,
        pub description: String,
        /// Free text chosen by the brand, e.g. "饮品券"; the app groups by it.
        pub category: String,
        /// `goods` (collected in store), `voucher` (own-brand), `partner` (partner reward).
        pub kind: String,
        pub image_url: Option<String>,
        pub points_price: i64,
        /// Cash paid at pickup on top of the points (points + cash items); 0 for most.
        pub cash_cents: i64,
        /// Units left.
        pub stock: i64,
        pub per_member_limit: Option<i64>,
        /// Units this member has redeemed (not counting cancelled orders).
        pub redeemed_by_me: i64,
        /// The lowest tier allowed, when the item is tier-only.
        pub required_tier: Option<TierRef>,
        /// True when the member's tier is below `required_tier`.
        pub locked: bool,
        pub available_from: Option<String>,
        pub available_until: Option<String>,
    }

    /// POST /api/v1/mall/orders (with an Idempotency-Key header)
    pub struct MallOrderRequest {
        pub item_id: i64,
        #[serde(default = "one")]
        pub quantity: i64,
    }

    /// 201 from POST /api/v1/mall/orders
    pub struct MallOrderResult {
        pub order_code: String,
        pub points_spent: i64,
        /// Balance after the redemption.
        pub points: i64,
        pub cash_cents: i64,
        pub item_name: String,
        pub quantity: i64,
        pub status: String,
    }

    /// An order as the member (GET /api/v1/me/mall/orders[/{code}]) and staff see it.
    pub struct MallOrder {
        pub order_code: String,
        pub item_id: i64,
        pub item_name: String,
        pub image_url: Option<String>,
        pub quantity: i64,
        pub points_spent: i64,
        pub cash_cents: i64,
        /// `pending` (to collect), `collected`, `cancelled`, `refunded`
        pub status: String,
        pub created_at: String,
        pub collected_at: Option<String>,
        pub collected_store_name: Option<String>,
        pub closed_at: Option<String>,
        pub close_reason: Option<String>,
    }

    pub struct MallOrderPage {
        pub items: Vec<MallOrder>,
        pub next: Option<String>,
    }

    /// GET /api/v1/staff/mall/orders/{code}: the order and whose it is.
    pub struct StaffMallOrder {
        pub order: MallOrder,
        pub member_no: String,
        pub member_name: String,
        pub phone_masked: String,
    }

    /// POST /api/v1/staff/mall/orders/{code}/cancel (with an Idempotency-Key header)
    pub struct CancelOrderRequest {
        pub reason: String,
    }

    /// Answer of a cancel: the order as it is now and the member's balance.
    pub struct CancelOrderResult {
        pub order: MallOrder,
        /// What the order had spent, all of it given back (the cancellation's ledger row).
        pub points_returned: i64,
        /// The balance after, net of what did not stay: points that went back into
        /// batches that have expired meanwhile expire again at once, and spendable
        /// ones first pay off debt from an earlier refund (own `refund` row).
        pub points: i64,
    }

    /// POST /api/v1/staff/refunds (with an Idempotency-Key header): a purchase of this
    /// store was returned; the points it earned are taken back.
    pub struct RefundRequest {
        pub order_ref: String,
        pub reason: String,
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
    }

    /// POST /api/v1/admin/mall/items; PATCH takes `MallItemPatch`.
    pub struct NewMallItem {
        pub name: String,
        pub points_price: i64,
        pub stock: i64,
        #[serde(default)]
        pub per_member_limit: Option<i64>,
        #[serde(default)]
        pub description: Option<String>,
        #[serde(default)]
        pub category: Option<String>,
        /// `goods` (default), `voucher` or `partner`.
        #[serde(default)]
        pub kind: Option<String>,
        #[serde(default)]
        pub image_url: Option<String>,
        #[serde(default)]
        pub cash_cents: Option<i64>,
        /// Tier code; only members at this tier or above may redeem.
        #[serde(default)]
        pub min_tier: Option<String>,
        /// RFC 3339
        #[serde(default)]
        pub available_from: Option<String>,
        #[serde(default)]
        pub available_until: Option<String>,
        #[serde(default)]
        pub hidden: Option<bool>,
        /// Lower sorts first.
        #[serde(default)]
        pub sort: Option<i64>,
    }

    /// PATCH /api/v1/admin/mall/items/{id}: absent fields stay; `null` clears an
    /// optional one (limit, tier, image, dates).
    ///
    /// Stock: `stock_delta` adds or removes units relative to what is left now (safe
    /// while members redeem); `stock` sets the count after a stock-take, and with
    /// `expected_stock` only if the stock is still what the admin last saw (else 409
    /// `stock_changed`), so redemptions in between are not overwritten.
    pub struct MallItemPatch {
        #[serde(default)]
        pub name: Option<String>,
        #[serde(default)]
        pub points_price: Option<i64>,
        #[serde(default)]
        pub stock: Option<i64>,
        #[serde(default)]
        pub stock_delta: Option<i64>,
        #[serde(default)]
        pub expected_stock: Option<i64>,
        #[serde(default, with = "nullable")]
        pub per_member_limit: Option<Option<i64>>,
        #[serde(default)]
        pub description: Option<String>,
        #[serde(default)]
        pub category: Option<String>,
        #[serde(default)]
        pub kind: Option<String>,
        #[serde(default, with = "nullable")]
        pub image_url: Option<Option<String>>,
        #[serde(default)]
        pub cash_cents: Option<i64>,
        #[serde(default, with = "nullable")]
        pub min_tier: Option<Option<String>>,
        #[serde(default, with = "nullable")]
        pub available_from: Option<Option<String>>,
        #[serde(default, with = "nullable")]
        pub available_until: Option<Option<String>>,
        #[serde(default)]
        pub hidden: Option<bool>,
        #[serde(default)]
        pub sort: Option<i64>,
    }

    /// An item as the brand sees it (GET /api/v1/admin/mall/items, PATCH answer).
    pub struct AdminMallItem {
        pub id: i64,
        pub name: String,
        pub description: String,
        pub category: String,
        pub kind: String,
        pub image_url: Option<String>,
        pub points_price: i64,
        pub cash_cents: i64,
        pub stock: i64,
        pub per_member_limit: Option<i64>,
        pub min_tier: Option<String>,
        pub available_from: Option<String>,
        pub available_until: Option<String>,
        pub hidden: bool,
        pub sort: i64,
        /// Units in orders that are not cancelled or refunded.
        pub redeemed: i64,
    }

    /// 201 from POST /api/v1/admin/mall/items
    pub struct Created {
        pub id: i64,
    }

    /// POST /api/v1/admin/members/{member_no}/points (with an Idempotency-Key header)
    pub struct PointsAdjustRequest {
        /// Signed, non-zero: positive credits a new batch, negative spends oldest first.
        pub points: i64,
        pub reason: String,
    }

    pub struct PointsAdjustResult {
        pub member_no: String,
        /// The adjustment as requested (its ledger row).
        pub points_changed: i64,
        /// The balance after; a credit first pays off debt from an earlier refund, so
        /// this can be less than before + `points_changed`.
        pub points: i64,
    }

    /// GET / PUT /api/v1/admin/points-rules: how long newly earned points stay valid.
    pub struct PointsRules {
        /// `never`, `days` (valid through the day N days later), `month_end` (through
        /// the end of the Nth month after earning; 0 = that month) or `year_end`
        /// (through 31 Dec of the year earned + N).
        pub expiry: String,
        #[serde(default)]
        pub n: i64,
    }

    /// GET /api/v1/tiers: the program's tiers in order (public).
    pub struct TierView {
        pub code: String,
        pub name: String,
        pub growth_threshold: i64,
        pub points_per_yuan_pct: i64,
    }

    /// GET /api/v1/dev/outbox (only with --dev)
    pub struct OutboxMessage {
        pub to: String,
        pub text: String,
        pub code: String,
        pub at: String,
    }
}

fn one() -> i64 {
    1
}

/// `Option<Option<T>>` for PATCH bodies: absent = `None`, `null` = `Some(None)`.
mod nullable {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer, T: Serialize>(
        value: &Option<Option<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

impl ErrorBody {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code: code.into(),
                message: message.into(),
            },
        }
    }
}

/// Stable error codes the clients branch on.
pub mod codes {
    pub const INVALID_INPUT: &str = "invalid_input";
    pub const INVALID_PHONE: &str = "invalid_phone";
    pub const INVALID_CODE: &str = "invalid_code";
    pub const CONSENT_REQUIRED: &str = "consent_required";
    pub const NAME_REQUIRED: &str = "name_required";
    pub const OTP_EXPIRED: &str = "otp_expired";
    pub const OTP_LOCKED: &str = "otp_locked";
    pub const RATE_LIMITED: &str = "rate_limited";
    pub const UNAUTHENTICATED: &str = "unauthenticated";
    pub const FORBIDDEN: &str = "forbidden";
    pub const NOT_FOUND: &str = "not_found";
    pub const BAD_CREDENTIALS: &str = "bad_credentials";
    pub const CARD_CODE_MALFORMED: &str = "card_code_malformed";
    pub const CARD_CODE_INVALID: &str = "card_code_invalid";
    pub const CARD_CODE_EXPIRED: &str = "card_code_expired";
    pub const CARD_CODE_USED: &str = "card_code_used";
    pub const INVALID_AMOUNT: &str = "invalid_amount";
    pub const DUPLICATE_ORDER: &str = "duplicate_order";
    pub const IDEMPOTENCY_KEY_REQUIRED: &str = "idempotency_key_required";
    pub const IDEMPOTENCY_KEY_REUSED: &str = "idempotency_key_reused";
    pub const REQUEST_IN_PROGRESS: &str = "request_in_progress";
    pub const INTERNAL: &str = "internal";
    /// A purchase named coupons before coupons exist (later issue).
    pub const COUPONS_UNAVAILABLE: &str = "coupons_unavailable";
    /// The staff account is not attached to a store, so it cannot record purchases.
    pub const STORE_REQUIRED: &str = "store_required";
    pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    /// The server gave up on the request (overloaded or a slow dependency).
    pub const TIMEOUT: &str = "timeout";
    /// A concurrent change got in the way and nothing was applied: send the same
    /// request again (503 with Retry-After).
    pub const RETRY_LATER: &str = "retry_later";
    /// An admin's stock change was based on a count that redemptions have changed since.
    pub const STOCK_CHANGED: &str = "stock_changed";
    pub const INSUFFICIENT_POINTS: &str = "insufficient_points";
    pub const OUT_OF_STOCK: &str = "out_of_stock";
    /// The member has redeemed this item as often as allowed.
    pub const LIMIT_REACHED: &str = "limit_reached";
    /// The item is for a higher tier.
    pub const TIER_REQUIRED: &str = "tier_required";
    /// Hidden, not yet on sale, or no longer on sale.
    pub const ITEM_UNAVAILABLE: &str = "item_unavailable";
    pub const INVALID_QUANTITY: &str = "invalid_quantity";
    /// The order was already collected, cancelled or refunded.
    pub const ORDER_CLOSED: &str = "order_closed";
    /// The purchase was already refunded.
    pub const ALREADY_REFUNDED: &str = "already_refunded";
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn error_body_shape() {
        let v = serde_json::to_value(ErrorBody::new("invalid_phone", "bad")).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"error":{"code":"invalid_phone","message":"bad"}})
        );
    }

    #[test]
    fn verify_request_defaults_optional_fields() {
        let r: VerifyOtpRequest = serde_json::from_str(
            r#"{"phone":"13812345678","code":"123456","privacy_consent":true}"#,
        )
        .unwrap();
        assert!(!r.marketing_consent);
        assert_eq!(r.name, None);
    }
}

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
        pub points_earned: i64,
        pub growth_earned: i64,
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
        /// Signed: negative for redeem/expire.
        pub points: i64,
        pub reason: String,
        pub at: String,
        pub store_name: Option<String>,
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

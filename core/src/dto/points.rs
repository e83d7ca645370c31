//! Points: the member's history (ledger rows and their facts), adjustments and the brand's rules.

use serde::{Deserialize, Serialize};

use super::tiers::TierRef;

wire! {
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
        /// What happened, as facts the app words in the member's language; absent on
        /// rows written before the facts were recorded (then `kind` and `reason` tell).
        #[serde(default)]
        pub event: Option<LedgerEvent>,
    }

    /// The facts behind one ledger row. `kind`: `purchase`, `refund` (a returned
    /// purchase), `refund_settle` (points owed from a refund, paid from a credit),
    /// `redeem`, `redeem_cancel`, `expire`, `adjust`, `referral_reward` (for inviting),
    /// `referral_welcome` (for joining by invitation), `import`, `upgrade`. Never an
    /// order reference: those are for staff.
    pub struct LedgerEvent {
        pub kind: String,
        /// The store's name (purchases and refunds).
        #[serde(default)]
        pub store: Option<String>,
        /// The mall item's name (redemptions).
        #[serde(default)]
        pub item: Option<String>,
        #[serde(default)]
        pub quantity: Option<i64>,
        /// What the member paid (purchases).
        #[serde(default)]
        pub amount_cents: Option<i64>,
        /// Taken off by coupons (purchases), when any.
        #[serde(default)]
        pub discount_cents: Option<i64>,
        /// The tier reached (upgrades).
        #[serde(default)]
        pub tier: Option<TierRef>,
        /// The last day the expired points were valid, `YYYY-MM-DD` (expiries).
        #[serde(default)]
        pub valid_through: Option<String>,
        /// Written by staff: the reason of an adjustment or a return.
        #[serde(default)]
        pub note: Option<String>,
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
}

impl LedgerEvent {
    /// An event of `kind` with none of its facts known yet.
    pub fn of(kind: &str) -> Self {
        Self {
            kind: kind.into(),
            store: None,
            item: None,
            quantity: None,
            amount_cents: None,
            discount_cents: None,
            tier: None,
            valid_through: None,
            note: None,
        }
    }
}

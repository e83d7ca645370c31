//! What the signed-in member sees of themselves: the card, its code, the profile.

use serde::{Deserialize, Serialize};

use super::tiers::{KeepTierView, NextTierView, TierRef};

wire! {
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
        /// Coupons in the wallet that can be used now or later (the card's "优惠券 N").
        #[serde(default)]
        pub coupons_usable: i64,
        /// Of those, the ones not yet seen in the wallet (the card's red dot).
        #[serde(default)]
        pub coupons_new: i64,
        /// What keeping the tier takes ("保级"); absent at the entry tier and when tiers
        /// never drop.
        #[serde(default)]
        pub keep: Option<KeepTierView>,
        /// Unread messages in the inbox (the card's bell).
        #[serde(default)]
        pub notifications_unread: i64,
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

    /// GET /api/v1/me/profile
    pub struct ProfileView {
        pub name: String,
        pub phone_masked: String,
        /// `YYYY-MM-DD`, or `MM-DD` when the member gave no year.
        pub birthday: Option<String>,
        /// When set less than a year ago: the first instant it may change (RFC 3339).
        pub birthday_locked_until: Option<String>,
        pub marketing_consent: bool,
    }

    /// PUT /api/v1/me/profile: only the fields given change.
    pub struct ProfileUpdate {
        #[serde(default)]
        pub name: Option<String>,
        /// `YYYY-MM-DD` or `MM-DD`; once set it can change once a year.
        #[serde(default)]
        pub birthday: Option<String>,
        #[serde(default)]
        pub marketing_consent: Option<bool>,
    }

    /// GET /api/v1/tiers: the program's tiers in order (public).
    pub struct TierView {
        pub code: String,
        pub name: String,
        pub growth_threshold: i64,
        pub points_per_yuan_pct: i64,
    }
}

//! Wire types of in-store sign-up: signed sign-up links and their QR codes, the welcome
//! page, referrals, sign-up reports and the legacy member import.

use serde::{Deserialize, Serialize};

wire! {
    /// What the sign-up form asks besides phone, code, name and consent: each of
    /// `off`, `optional` or `required`.
    pub struct SignupFields {
        #[serde(default = "off")]
        pub birthday: String,
        #[serde(default = "off")]
        pub gender: String,
        #[serde(default = "off")]
        pub city: String,
    }

    /// The brand's referral programme. Rewards are held until the friend's first purchase.
    pub struct ReferralRules {
        /// Off: no share link, no rewards.
        pub enabled: bool,
        #[serde(default)]
        pub referrer_points: i64,
        #[serde(default)]
        pub friend_points: i64,
        /// A claim campaign (coupon pack) each side receives, if any.
        #[serde(default)]
        pub referrer_campaign_id: Option<i64>,
        #[serde(default)]
        pub friend_campaign_id: Option<i64>,
        /// Referrals per referrer per local day that can earn a reward; more still sign
        /// up, unrewarded.
        pub daily_cap: i64,
    }

    /// GET/PUT /api/v1/admin/signup-settings
    pub struct SignupSettings {
        /// Shown on the welcome page and printed on QR codes.
        pub brand_name: String,
        /// The line under the QR code ("扫码入会 领新人礼").
        pub call_to_action: String,
        pub fields: SignupFields,
        pub referral: ReferralRules,
    }

    /// POST /api/v1/admin/signup-links (admin: any store; manager: their own).
    pub struct SignupLinkRequest {
        pub store_code: String,
        /// `poster`, `table_tent`, `packaging`, `event`, `online_ad`, `staff`, `receipt`
        /// or the brand's own `[a-z0-9_-]{1,32}`.
        pub channel: String,
        /// The staff member the code credits (a cashier's personal code).
        #[serde(default)]
        pub staff_username: Option<String>,
        /// A claim campaign given as the welcome gift.
        #[serde(default)]
        pub campaign_id: Option<i64>,
        /// RFC 3339; none = never expires.
        #[serde(default)]
        pub expires_at: Option<String>,
        /// For the brand's own list ("门口海报 2026 冬").
        #[serde(default)]
        pub label: Option<String>,
    }

    pub struct SignupLinkView {
        pub id: i64,
        /// The signed token in the URL.
        pub token: String,
        /// Path and query the QR code encodes (`/join?c=…`), relative to the site.
        pub path: String,
        pub store_code: String,
        pub store_name: String,
        pub channel: String,
        pub staff_username: Option<String>,
        pub campaign_id: Option<i64>,
        pub label: String,
        pub expires_at: Option<String>,
        pub revoked: bool,
        pub signups: i64,
        pub created_at: String,
    }

    pub struct SignupLinkList {
        pub items: Vec<SignupLinkView>,
    }

    /// GET /api/v1/signup/welcome?c=…&ref=…: what the welcome page shows.
    pub struct WelcomeView {
        pub brand_name: String,
        pub call_to_action: String,
        /// `ok`, `none` (no link given), `expired`, `revoked` or `invalid` (forged or
        /// altered). Only `ok` attributes the sign-up; the others still sign up.
        pub link_status: String,
        pub store_name: Option<String>,
        pub gift: Option<WelcomeGift>,
        /// The friend who invited (masked name), when the referral code is valid.
        pub referrer: Option<String>,
        /// What each side gets after the friend's first purchase (with a valid code).
        pub referral_reward: Option<ReferralReward>,
        pub fields: SignupFields,
    }

    pub struct ReferralReward {
        pub referrer_points: i64,
        pub friend_points: i64,
        /// Whether a coupon pack comes too.
        pub referrer_coupons: bool,
        pub friend_coupons: bool,
    }

    pub struct WelcomeGift {
        pub name: String,
        /// Coupon names with quantity ("满100减20 ×1").
        pub items: Vec<String>,
    }

    /// GET /api/v1/me/referral
    pub struct ReferralView {
        pub enabled: bool,
        pub code: String,
        /// `/join?ref=CODE`
        pub path: String,
        /// What each side gets, for the share page.
        pub reward: ReferralReward,
        /// Friends who signed up with the code.
        pub invited: i64,
        /// Of those, rewarded after their first purchase.
        pub rewarded: i64,
        /// Waiting for the friend's first purchase.
        pub pending: i64,
        /// Points this member has received for referrals.
        pub points_earned: i64,
    }

    /// GET /api/v1/admin/reports/signups
    pub struct SignupReport {
        /// `store`, `channel`, `staff` or `day`.
        pub by: String,
        pub from: String,
        pub to: String,
        pub rows: Vec<SignupReportRow>,
        pub total: SignupReportRow,
    }

    pub struct SignupReportRow {
        /// Store code, channel, staff username or `YYYY-MM-DD`; `""` for none.
        pub key: String,
        pub label: String,
        pub signups: i64,
        /// Members whose first purchase was on their sign-up day (local time).
        pub first_purchase_same_day: i64,
        /// `first_purchase_same_day / signups` in per mille (0 when no sign-ups).
        pub same_day_rate_permille: i64,
    }

    /// GET /api/v1/admin/reports/referrals: signed up with a code -> first purchase ->
    /// rewarded, plus the ones a cap or a rule stopped.
    pub struct ReferralFunnel {
        pub from: String,
        pub to: String,
        pub referrers: i64,
        pub signed_up: i64,
        pub first_purchase: i64,
        pub rewarded: i64,
        pub held: i64,
        pub capped: i64,
    }

    /// The result of an import or a dry run (API and `member-server import`).
    pub struct ImportReport {
        pub dry_run: bool,
        /// `utf-8` or `gbk`.
        pub encoding: String,
        /// Data rows in the file (header not counted).
        pub rows: i64,
        /// Rows that are (dry run: would be) new members.
        pub imported: i64,
        /// Rows whose phone is a member already, or repeats an earlier row.
        pub duplicates: i64,
        pub rejected: i64,
        /// Points credited through the ledger (`import` entries).
        pub points: i64,
        /// Per-row reasons for rejected rows and duplicates (the first 1,000).
        pub problems: Vec<ImportProblem>,
    }

    pub struct ImportProblem {
        /// 1-based line in the file (the header is line 1).
        pub line: i64,
        /// `phone`, `points`, …, or `row` for the whole row.
        pub column: String,
        /// `bad_phone`, `bad_date`, `negative_points`, `unknown_tier`, `unknown_store`,
        /// `bad_points`, `bad_name`, `missing_phone`, `wrong_encoding`, `bad_row`,
        /// `duplicate_in_file`, `already_member`.
        pub code: String,
        pub message: String,
    }

    /// GET /api/v1/admin/imports/{id}: progress of an import running in the background.
    pub struct ImportJobView {
        pub id: i64,
        /// `running`, `done` or `failed`.
        pub status: String,
        pub rows: i64,
        pub processed: i64,
        pub report: Option<ImportReport>,
        pub error: Option<String>,
    }
}

fn off() -> String {
    "off".into()
}

impl Default for SignupFields {
    fn default() -> Self {
        Self {
            birthday: off(),
            gender: off(),
            city: off(),
        }
    }
}

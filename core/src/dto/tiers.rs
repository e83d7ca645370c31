//! Wire types of the tier program: what a brand configures (a program version) and what a
//! member sees (tier status, benefits comparison, growth history, notifications).
//! The rules that read these live in `crate::tier_program`.

use serde::{Deserialize, Serialize};

wire! {
    pub struct TierRef {
        pub code: String,
        pub name: String,
    }

    pub struct NextTierView {
        pub code: String,
        pub name: String,
        pub growth_needed: i64,
    }

    /// One version of the tier program. A new version applies from its `effective_from`
    /// on; what happened before keeps the rules of its time.
    pub struct TierProgram {
        /// Lowest first; the first has threshold 0 (everyone's entry tier).
        pub tiers: Vec<TierDef>,
        #[serde(default)]
        pub growth: GrowthRules,
        #[serde(default)]
        pub downgrade: DowngradeRules,
        /// Extra multipliers on the brand's member day(s); none when absent.
        #[serde(default)]
        pub member_day: Option<MemberDayRule>,
    }

    pub struct TierDef {
        /// `[a-z0-9_]{1,32}`, stable: members, coupons and mall items refer to it.
        pub code: String,
        pub name: String,
        /// Badge colour `#RRGGBB`.
        #[serde(default)]
        pub color: String,
        /// Badge icon: `leaf`, `star`, `crown`, `diamond` or empty.
        #[serde(default)]
        pub icon: String,
        /// Growth in the window that reaches the tier.
        pub growth_threshold: i64,
        /// Alternative qualifier: this much spend (fen) in the window also reaches it.
        #[serde(default)]
        pub spend_threshold_cents: Option<i64>,
        /// The tier's earn rate: points per yuan in hundredths (100 = 1 point per yuan).
        pub points_per_yuan_pct: i64,
        #[serde(default)]
        pub benefits: Vec<TierBenefit>,
        /// Points given once on reaching the tier (coupons come from upgrade campaigns).
        #[serde(default)]
        pub upgrade_points: i64,
    }

    /// One benefit line. `kind`: `discount` (`value` = percent off), `free_shipping`,
    /// `birthday_multiplier` (`value` = points multiplier in percent, 200 = double points
    /// in the birthday month), `exclusive_mall`, `member_day_price`, `custom` (`text`).
    pub struct TierBenefit {
        pub kind: String,
        #[serde(default)]
        pub value: i64,
        #[serde(default)]
        pub text: String,
    }

    pub struct GrowthRules {
        /// Growth per whole yuan paid.
        #[serde(default = "one")]
        pub per_yuan: i64,
        /// One-time growth for completing the profile (name and birthday).
        #[serde(default)]
        pub profile_completed: i64,
        /// One-time growth for the first purchase.
        #[serde(default)]
        pub first_purchase: i64,
        /// Growth for a daily check-in (once per local day).
        #[serde(default)]
        pub check_in: i64,
        /// `lifetime`, `rolling_months` (with `window_months`) or `calendar_year`.
        #[serde(default = "lifetime")]
        pub window: String,
        #[serde(default)]
        pub window_months: i64,
        /// Daily decay after this many days without a purchase (0 = no decay).
        #[serde(default)]
        pub decay_after_days: i64,
        #[serde(default)]
        pub decay_per_day: i64,
    }

    pub struct DowngradeRules {
        /// `never`, `to_earned` (to the highest tier the period's growth reaches) or
        /// `one_step` (at most one tier down, never below what the period earned).
        #[serde(default = "never")]
        pub policy: String,
        /// Length of an evaluation period, counted from the upgrade.
        #[serde(default = "twelve")]
        pub period_months: i64,
        /// Warn this many days before the period ends when the tier is not yet kept.
        #[serde(default = "thirty")]
        pub warn_days: i64,
    }

    pub struct MemberDayRule {
        /// `weekday:N` (Monday = 1), `monthday:N` or `week:N` (the Nth week of each month:
        /// days 7N-6 to 7N).
        pub day: String,
        /// Points multiplier in percent (200 = double points).
        #[serde(default = "hundred")]
        pub points_multiplier_pct: i64,
        #[serde(default = "hundred")]
        pub growth_multiplier_pct: i64,
    }

    /// POST /api/v1/admin/tier-program
    pub struct NewTierProgramVersion {
        /// RFC 3339, not in the past; absent = now.
        #[serde(default)]
        pub effective_from: Option<String>,
        /// What changed and why (audit log and version list).
        #[serde(default)]
        pub note: String,
        pub program: TierProgram,
    }

    pub struct TierProgramVersionView {
        pub id: i64,
        pub effective_from: String,
        pub note: String,
        pub created_by: String,
        pub created_at: String,
        pub program: TierProgram,
    }

    /// GET /api/v1/admin/tier-program
    pub struct TierProgramVersions {
        /// The version in effect now.
        pub current_id: i64,
        /// Newest first, future ones included.
        pub versions: Vec<TierProgramVersionView>,
    }

    /// "to keep 金卡 until 2027-06-30, earn 320 more growth"
    pub struct KeepTierView {
        pub tier: TierRef,
        /// The last local day of the evaluation period, `YYYY-MM-DD`.
        pub until: String,
        /// Growth earned in the period so far.
        pub period_growth: i64,
        /// 0 when the tier is already kept for the next period.
        pub growth_needed: i64,
        /// The member reached this tier by an upgrade that started this period: the
        /// line is about keeping a tier just won, not one held for a while.
        #[serde(default)]
        pub upgraded: bool,
    }

    /// A tier as the benefits comparison shows it.
    pub struct TierInfoView {
        pub code: String,
        pub name: String,
        pub color: String,
        pub icon: String,
        pub growth_threshold: i64,
        pub spend_threshold_cents: Option<i64>,
        pub points_per_yuan_pct: i64,
        pub benefits: Vec<TierBenefit>,
        pub upgrade_points: i64,
    }

    pub struct MemberDayView {
        pub day: String,
        pub points_multiplier_pct: i64,
        pub growth_multiplier_pct: i64,
        /// Today (local) is a member day.
        pub today: bool,
    }

    /// GET /api/v1/me/tier: where the member stands and every tier side by side.
    pub struct TierStatusView {
        pub tier: TierRef,
        /// Growth in the window (what upgrades count).
        pub growth: i64,
        pub next_tier: Option<NextTierView>,
        pub progress_permille: i64,
        pub keep: Option<KeepTierView>,
        pub tiers: Vec<TierInfoView>,
        pub member_day: Option<MemberDayView>,
        /// `lifetime`, `rolling_months`, `calendar_year`
        pub window: String,
        pub window_months: i64,
        /// `never`, `to_earned`, `one_step`
        pub downgrade_policy: String,
        pub period_months: i64,
        /// Growth the tasks give and whether the member has them already.
        pub tasks: Vec<GrowthTaskView>,
    }

    pub struct GrowthTaskView {
        /// `profile_completed`, `first_purchase`, `check_in`
        pub task: String,
        pub growth: i64,
        /// Done (for check-in: done today).
        pub done: bool,
    }

    /// One entry of GET /api/v1/me/growth.
    pub struct GrowthEventView {
        pub id: i64,
        /// `purchase`, `refund`, `task`, `decay`, `adjust`
        pub kind: String,
        /// Signed.
        pub growth: i64,
        /// What it was for: an order reference, a task name.
        pub note: String,
        pub at: String,
        /// When it stops counting for the window (RFC 3339); absent: never.
        pub counts_until: Option<String>,
    }

    /// GET /api/v1/me/growth?before=ID
    pub struct GrowthHistoryPage {
        pub items: Vec<GrowthEventView>,
        /// Pass as `before` for the next page; absent on the last page.
        pub next_before: Option<i64>,
    }

    /// One message in the member's inbox (GET /api/v1/me/notifications).
    pub struct NotificationView {
        pub id: i64,
        /// `upgraded`, `downgrade_warning`, `downgraded`, `kept`, `member_day`
        pub kind: String,
        /// Facts the app words in the member's language (tier names, dates, numbers).
        pub data: NotificationData,
        pub at: String,
        pub read: bool,
    }

    pub struct NotificationData {
        #[serde(default)]
        pub tier: Option<TierRef>,
        #[serde(default)]
        pub from_tier: Option<TierRef>,
        /// A local day `YYYY-MM-DD` (warning: the period's last day; member day: the day).
        #[serde(default)]
        pub date: Option<String>,
        #[serde(default)]
        pub growth_needed: Option<i64>,
        #[serde(default)]
        pub points_multiplier_pct: Option<i64>,
    }

    pub struct NotificationsPage {
        pub items: Vec<NotificationView>,
        pub unread: i64,
        pub next_before: Option<i64>,
    }

    /// POST /api/v1/me/notifications/read: the ids read, or all when `ids` is absent.
    pub struct ReadNotificationsRequest {
        #[serde(default)]
        pub ids: Option<Vec<i64>>,
    }

    /// Answer of POST /api/v1/me/notifications/read.
    pub struct UnreadCount {
        pub unread: i64,
    }

    /// POST /api/v1/me/check-in
    pub struct CheckInResult {
        /// False when the member had already checked in today (nothing given again).
        pub checked_in: bool,
        pub growth_earned: i64,
        pub growth: i64,
        pub tier: TierRef,
        pub upgraded: bool,
    }
}

fn one() -> i64 {
    1
}
fn hundred() -> i64 {
    100
}
fn twelve() -> i64 {
    12
}
fn thirty() -> i64 {
    30
}
fn lifetime() -> String {
    "lifetime".into()
}
fn never() -> String {
    "never".into()
}

impl Default for GrowthRules {
    fn default() -> Self {
        Self {
            per_yuan: one(),
            profile_completed: 0,
            first_purchase: 0,
            check_in: 0,
            window: lifetime(),
            window_months: 0,
            decay_after_days: 0,
            decay_per_day: 0,
        }
    }
}

impl Default for DowngradeRules {
    fn default() -> Self {
        Self {
            policy: never(),
            period_months: twelve(),
            warn_days: thirty(),
        }
    }
}

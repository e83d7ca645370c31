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

mod signup;
mod tiers;
pub use signup::*;
pub use tiers::*;

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
        /// The language of the SMS text: `zh-CN` (default) or `en`.
        #[serde(default)]
        pub lang: Option<String>,
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
        /// The signed sign-up link (`/join?c=…`) that brought the customer: store,
        /// channel and staff are recorded for a new member. An expired, revoked or
        /// altered link signs up without attribution.
        #[serde(default)]
        pub link: Option<String>,
        /// A friend's referral code (`/join?ref=…`).
        #[serde(default)]
        pub referral_code: Option<String>,
        /// `YYYY-MM-DD`, when the brand asks for it.
        #[serde(default)]
        pub birthday: Option<String>,
        /// `female`, `male` or `other`, when the brand asks for it.
        #[serde(default)]
        pub gender: Option<String>,
        #[serde(default)]
        pub city: Option<String>,
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
        /// A coupon item: redeeming puts this template's coupons (one per unit) in the
        /// wallet at once; the order is `collected` straight away (nothing to pick up).
        #[serde(default)]
        pub coupon_template_id: Option<i64>,
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
        /// As in `MallOrder`.
        #[serde(default = "store_delivery")]
        pub delivery: String,
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
        /// `wallet`: a coupon item, put into the member's wallet as it was redeemed
        /// (its `collected` status means delivered, nobody collected anything); `store`:
        /// handed over at a store.
        #[serde(default = "store_delivery")]
        pub delivery: String,
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
        /// Coupon template issued per unit redeemed (makes it a coupon item; `kind`
        /// then defaults to, and must be, `voucher`).
        #[serde(default)]
        pub coupon_template_id: Option<i64>,
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
        /// `null` turns a coupon item back into a plain one.
        #[serde(default, with = "nullable")]
        pub coupon_template_id: Option<Option<i64>>,
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
        #[serde(default)]
        pub coupon_template_id: Option<i64>,
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

wire! {
    /// What a coupon gives. `kind`: `amount` (`amount_off_cents`), `percent`
    /// (`percent_off`: 10 = 9折, optional `cap_cents`), `gift` (`gift_name`).
    pub struct CouponBenefit {
        pub kind: String,
        #[serde(default)]
        pub amount_off_cents: i64,
        #[serde(default)]
        pub percent_off: i64,
        #[serde(default)]
        pub cap_cents: Option<i64>,
        #[serde(default)]
        pub gift_name: Option<String>,
    }

    /// A coupon in the member's wallet (GET /api/v1/me/coupons[/{id}]) and at the till.
    pub struct CouponView {
        pub id: i64,
        /// 10 characters (the order codes' alphabet): shown as text and QR.
        pub code: String,
        pub template_id: i64,
        pub name: String,
        pub description: String,
        pub benefit: CouponBenefit,
        pub min_spend_cents: i64,
        pub stackable: bool,
        /// Store codes where it may be used; empty = every store.
        pub store_codes: Vec<String>,
        /// The names of those stores, same order.
        pub store_names: Vec<String>,
        /// RFC 3339; with `valid_from_ts` / `expires_ts` (unix seconds) for the rules.
        pub valid_from: String,
        pub expires_at: String,
        pub valid_from_ts: i64,
        pub expires_ts: i64,
        /// `usable`, `upcoming` (not valid yet), `used`, `expired`, `void`
        pub status: String,
        /// Why it was issued: `signup`, `upgrade`, `birthday`, `member_day`, `winback`,
        /// `manual`, `claim`, `mall`
        pub source: String,
        pub issued_at: String,
        pub used_at: Option<String>,
        pub used_store_name: Option<String>,
        /// What it took off when used.
        pub discount_cents: Option<i64>,
        /// Not yet seen in the wallet (the "新" badge).
        pub new: bool,
    }

    /// GET /api/v1/me/coupons/summary: the wallet tabs' counts.
    pub struct CouponCounts {
        pub usable: i64,
        pub used: i64,
        pub expired: i64,
        pub new: i64,
        /// Usable coupons that expire within `coupons::EXPIRING_SOON_DAYS` local days.
        pub expiring_soon: i64,
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

impl CouponBenefit {
    /// The rule form, or `None` when the fields don't make a valid benefit.
    pub fn to_benefit(&self) -> Option<crate::coupons::Benefit> {
        use crate::coupons::{Benefit, MAX_PERCENT_OFF};
        match self.kind.as_str() {
            "amount" if self.amount_off_cents > 0 => Some(Benefit::AmountOff {
                off_cents: self.amount_off_cents,
            }),
            "percent"
                if (1..=MAX_PERCENT_OFF).contains(&self.percent_off)
                    && self.cap_cents.is_none_or(|c| c > 0) =>
            {
                Some(Benefit::PercentOff {
                    percent_off: self.percent_off,
                    cap_cents: self.cap_cents,
                })
            }
            "gift" => self
                .gift_name
                .as_ref()
                .filter(|g| !g.trim().is_empty())
                .map(|g| Benefit::Gift { item: g.clone() }),
            _ => None,
        }
    }

    pub fn from_benefit(b: &crate::coupons::Benefit) -> Self {
        use crate::coupons::Benefit;
        let mut out = Self {
            kind: String::new(),
            amount_off_cents: 0,
            percent_off: 0,
            cap_cents: None,
            gift_name: None,
        };
        match b {
            Benefit::AmountOff { off_cents } => {
                out.kind = "amount".into();
                out.amount_off_cents = *off_cents;
            }
            Benefit::PercentOff {
                percent_off,
                cap_cents,
            } => {
                out.kind = "percent".into();
                out.percent_off = *percent_off;
                out.cap_cents = *cap_cents;
            }
            Benefit::Gift { item } => {
                out.kind = "gift".into();
                out.gift_name = Some(item.clone());
            }
        }
        out
    }
}

impl CouponView {
    /// The coupon as the rules see it (the app previews checkout with this).
    pub fn to_held(&self) -> Option<crate::coupons::Held> {
        Some(crate::coupons::Held {
            id: self.id,
            template_id: self.template_id,
            terms: crate::coupons::Terms {
                benefit: self.benefit.to_benefit()?,
                min_spend_cents: self.min_spend_cents,
                stackable: self.stackable,
                store_codes: self.store_codes.clone(),
            },
            valid_from: self.valid_from_ts,
            expires_at: self.expires_ts,
            unused: matches!(self.status.as_str(), "usable" | "upcoming" | "expired"),
        })
    }
}

impl crate::coupons::Refusal {
    /// The wire error code a purchase gets for this refusal.
    pub fn code(self) -> &'static str {
        use crate::coupons::Refusal;
        match self {
            Refusal::Used => codes::COUPON_USED,
            Refusal::Expired => codes::COUPON_EXPIRED,
            Refusal::NotYetValid => codes::COUPON_NOT_YET_VALID,
            Refusal::MinSpend { .. } => codes::COUPON_MIN_SPEND,
            Refusal::WrongStore => codes::COUPON_WRONG_STORE,
            Refusal::NotStackable => codes::COUPONS_NOT_STACKABLE,
            Refusal::Duplicate | Refusal::TooMany => codes::COUPON_DUPLICATE,
        }
    }
}

fn one() -> i64 {
    1
}

fn store_delivery() -> String {
    "store".into()
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
    /// A sign-up field the brand requires (birthday, gender, city) is missing.
    pub const FIELD_REQUIRED: &str = "field_required";
    /// An import file that can't be read (empty, no header, no phone column).
    pub const INVALID_FILE: &str = "invalid_file";
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
    /// Too many wrong card codes from this staff account, store or for this member number
    /// at this store in the current window (429 with Retry-After); the card is not locked.
    pub const TOO_MANY_WRONG_CODES: &str = "too_many_wrong_codes";
    pub const INVALID_AMOUNT: &str = "invalid_amount";
    pub const DUPLICATE_ORDER: &str = "duplicate_order";
    pub const IDEMPOTENCY_KEY_REQUIRED: &str = "idempotency_key_required";
    pub const IDEMPOTENCY_KEY_REUSED: &str = "idempotency_key_reused";
    pub const REQUEST_IN_PROGRESS: &str = "request_in_progress";
    pub const INTERNAL: &str = "internal";
    /// A named coupon is not in this member's wallet (unknown, or another member's:
    /// the same answer, so ids can't be probed).
    pub const COUPON_NOT_FOUND: &str = "coupon_not_found";
    /// The coupon was used already (409).
    pub const COUPON_USED: &str = "coupon_used";
    pub const COUPON_EXPIRED: &str = "coupon_expired";
    pub const COUPON_NOT_YET_VALID: &str = "coupon_not_yet_valid";
    /// The basket is below the coupon's minimum spend.
    pub const COUPON_MIN_SPEND: &str = "coupon_min_spend";
    /// Not valid in this store.
    pub const COUPON_WRONG_STORE: &str = "coupon_wrong_store";
    /// A non-stackable coupon with others, or two of one kind.
    pub const COUPONS_NOT_STACKABLE: &str = "coupons_not_stackable";
    /// The same coupon named twice, or too many on one purchase (400).
    pub const COUPON_DUPLICATE: &str = "coupon_duplicate";
    /// The template's (or the claim link's) total has been given out.
    pub const COUPONS_EXHAUSTED: &str = "coupons_exhausted";
    /// The birthday was set less than a year ago.
    pub const BIRTHDAY_LOCKED: &str = "birthday_locked";
    /// A claim link that has ended, not started, or been switched off (410).
    pub const CAMPAIGN_CLOSED: &str = "campaign_closed";
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
    /// A refund larger than what is left of the purchase to refund (422).
    pub const REFUND_TOO_LARGE: &str = "refund_too_large";
    /// A purchase by `member_no` without a valid look-up of this member in this staff
    /// session (403).
    pub const LOOKUP_REQUIRED: &str = "lookup_required";
    /// The look-up token has expired: look the member up again (410).
    pub const LOOKUP_EXPIRED: &str = "lookup_expired";
    /// A tier program version that breaks the program's rules (message says which).
    pub const INVALID_PROGRAM: &str = "invalid_program";
    /// 403: a browser request with a session cookie from another site (CSRF).
    pub const CROSS_ORIGIN: &str = "cross_origin";
    /// 415: a body of the wrong type (the import wants text/csv).
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
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

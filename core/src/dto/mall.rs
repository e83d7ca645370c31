//! The points mall: items, orders, their handover and cancelling, and the brand's item settings.

use serde::{Deserialize, Serialize};

use super::defaults::{one, store_delivery};
use super::nullable;
use super::tiers::TierRef;

wire! {
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
}

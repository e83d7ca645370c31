//! Text of the points-mall bundle, and the order states it shares with the staff app.

use super::Lang;

texts! {
    /// Points-mall strings.
    Ml {
        Title => "积分商城", "Points mall";
        BackToCard => "会员卡", "Card";
        BackToMall => "商城", "Mall";
        ItemTitle => "商品详情", "Item";
        OrderTitle => "兑换详情", "Order";
        MyPoints => "我的积分", "My points";
        MyOrders => "我的兑换", "My redemptions";
        Loading => "加载中…", "Loading…";
        Retry => "重试", "Retry";
        LoadMore => "加载更多", "Load more";

        All => "全部", "All";
        // The low-threshold quick filter: items for at most LOW_PRICE_MAX points.
        LowPrice => "50 分以内", "Up to 50 pts";
        Affordable => "我能兑换", "I can afford";
        Cheapest => "积分从低到高", "Fewest points first";
        PricePoints => "{n} 积分", "{n} pts";
        LowStock => "仅剩 {n} 件", "Only {n} left";
        SoldOut => "已兑完", "Sold out";
        Limit => "每人限 {n} 件", "Limit {n} per member";
        TierOnly => "{tier}及以上可兑", "{tier} and above";
        NotEnough => "积分不足", "Not enough points";
        LimitReached => "已达兑换上限", "Limit reached";
        Unavailable => "暂不可兑换", "Not available now";
        Empty => "暂无可兑换的商品", "Nothing in the mall yet";
        NoMatch => "没有符合条件的商品", "No items match";
        ShowAll => "查看全部商品", "Show all items";

        About => "商品介绍", "About";
        Terms => "兑换须知", "Terms";
        KindGoods => "兑换后凭兑换码到店领取", "Collect in store with your order code";
        KindVoucher => "品牌券：兑换后凭兑换码到店使用", "Brand voucher: show your order code in store";
        KindWalletVoucher => "兑换后券直接放入券包，结账时出示会员码即可使用", "Goes straight into your coupon wallet; show your member code at checkout to use it";
        InWalletNote => "券已放入你的券包，结账时出示会员码即可使用", "The coupon is in your wallet: show your member code at checkout to use it";
        OpenWallet => "查看券包", "Open my wallet";
        DeliveredAt => "放入券包", "Added to wallet";
        KindPartner => "合作伙伴权益：凭兑换码到店核销", "Partner reward: show your order code in store";
        Stock => "库存 {n} 件", "{n} in stock";
        LimitDetail => "每人限 {n} 件，已兑 {m} 件", "Limit {n} per member; you have {m}";
        From => "{time} 开始兑换", "Redeemable from {time}";
        Until => "兑换截止 {time}", "Redeemable until {time}";
        CashAtPickup => "领取时另付 {cash}", "Pay {cash} at pickup";
        Quantity => "数量", "Quantity";
        Fewer => "减少", "Fewer";
        More => "增加", "More";
        Total => "合计 {n} 积分", "Total {n} points";
        Redeem => "立即兑换", "Redeem";
        ConfirmTitle => "确认兑换", "Confirm";
        ConfirmText => "确认使用 {n} 积分兑换 {item}？", "Use {n} points for {item}?";
        LeftAfter => "兑换后剩余 {n} 积分", "{n} points left afterwards";
        ConfirmYes => "确认兑换", "Redeem now";
        ConfirmNo => "再想想", "Not now";
        Redeeming => "兑换中…", "Redeeming…";
        RetryRedeem => "重试（不会重复扣积分）", "Retry (points are spent once)";

        Success => "兑换成功", "Redeemed";
        SpentLeft => "已使用 {n} 积分，剩余 {m} 积分", "{n} points used, {m} left";
        ShowToCollect => "到店出示此码领取", "Show this code in store to collect";
        OrderCode => "兑换码", "Order code";
        Item => "商品", "Item";
        PointsSpent => "使用积分", "Points used";
        CashDue => "到店支付", "Pay in store";
        OrderedAt => "兑换时间", "Redeemed";
        CollectedAt => "领取时间", "Collected";
        ClosedAt => "关闭时间", "Closed";
        Reason => "原因", "Reason";
        OrdersEmpty => "还没有兑换记录", "No redemptions yet";
        GoShopping => "去积分商城看看", "Browse the mall";
    }
}

/// An order's state in words: a coupon item's order went into the wallet when it was
/// placed (`delivery` `wallet`), which its `collected` status means; nobody collected it.
pub fn order_status_text(lang: Lang, status: &str, delivery: &str) -> &'static str {
    if delivery == "wallet" && status == "collected" {
        lang.pick("已放入券包", "In your wallet")
    } else {
        status_text(lang, status)
    }
}

/// An order's `status` in words (member and staff screens).
pub fn status_text(lang: Lang, status: &str) -> &'static str {
    match status {
        "pending" => lang.pick("待领取", "To collect"),
        "collected" => lang.pick("已领取", "Collected"),
        "cancelled" => lang.pick("已取消", "Cancelled"),
        "refunded" => lang.pick("已退还", "Refunded"),
        _ => lang.pick("处理中", "Processing"),
    }
}

/// `¥12.50` for a cash part, `None` when there is none.
pub fn cash(cents: i64) -> Option<String> {
    member_core::money::Cents::purchase(cents)
        .ok()
        .map(member_core::money::Cents::to_yuan_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Text;

    #[test]
    fn every_key_has_both_languages() {
        for k in Ml::ALL {
            assert!(!k.text(Lang::ZhCn).is_empty(), "{k:?}");
            assert!(!k.text(Lang::En).is_empty(), "{k:?}");
        }
    }

    #[test]
    fn statuses_and_cash() {
        assert_eq!(status_text(Lang::ZhCn, "pending"), "待领取");
        assert_eq!(status_text(Lang::ZhCn, "refunded"), "已退还");
        assert_eq!(
            order_status_text(Lang::ZhCn, "collected", "wallet"),
            "已放入券包"
        );
        assert_eq!(
            order_status_text(Lang::En, "collected", "wallet"),
            "In your wallet"
        );
        assert_eq!(
            order_status_text(Lang::ZhCn, "collected", "store"),
            "已领取"
        );
        assert_eq!(
            order_status_text(Lang::ZhCn, "refunded", "wallet"),
            "已退还"
        );
        assert_eq!(cash(1250).as_deref(), Some("¥12.50"));
        assert_eq!(cash(0), None);
    }
}

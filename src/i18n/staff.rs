//! Text of the staff checkout app.

texts! {
    /// Staff app strings.
    S {
        Title => "门店收银", "Store checkout";
        LoginTitle => "店员登录", "Staff sign-in";
        Username => "用户名", "Username";
        Password => "密码", "Password";
        Login => "登录", "Sign in";
        LoggingIn => "正在登录…", "Signing in…";
        Logout => "退出", "Sign out";
        Store => "门店", "Store";

        ScanLabel => "会员码", "Member code";
        // Short enough for a 390 px wide screen next to the Look up button.
        ScanPlaceholder => "扫码或输入 16 位会员码", "Scan or type 16 digits";
        Lookup => "查询", "Look up";
        LookingUp => "查询中…", "Looking up…";
        Phone => "手机", "Phone";
        Tier => "等级", "Tier";
        Points => "积分", "Points";
        Growth => "成长值", "Growth";

        Amount => "消费金额（元）", "Amount (CNY)";
        AmountPlaceholder => "例如 88.50", "e.g. 88.50";
        OrderRef => "订单号（可选）", "Order no. (optional)";
        OrderRefPlaceholder => "留空将自动生成", "Left empty: generated";
        PreviewPoints => "本单预计获得 {n} 积分、{g} 成长值", "This purchase earns {n} points and {g} growth";
        PreviewUpgrade => "本单后将升级为 {tier}", "Upgrades to {tier} with this purchase";
        Record => "记录消费", "Record purchase";
        Recording => "提交中…", "Recording…";
        RetryRecord => "重试提交（不会重复记账）", "Retry (will not double-credit)";

        ResultTitle => "记账成功", "Purchase recorded";
        PointsEarned => "本单获得积分", "Points earned";
        GrowthEarned => "本单获得成长值", "Growth earned";
        NewBalance => "当前积分", "Points balance";
        Upgraded => "会员已升级为 {tier}！", "Member upgraded to {tier}!";
        NextCustomer => "下一位顾客", "Next customer";

        Coupons => "优惠券", "Coupons";
        NoCoupons => "该会员暂无可用优惠券", "This member has no coupons";
        Basket => "原价", "Amount";
        Discount => "优惠", "Discount";
        Payable => "应付", "To pay";
        Paid => "实付", "Paid";
        HandOverGifts => "请将赠品交给会员：{items}", "Hand over the free item: {items}";
        CouponsUsed => "已用券：{names}", "Coupons used: {names}";
        GiftPack => "升级礼包已放入会员券包：{names}", "Upgrade gift coupons added to the wallet: {names}";

        TabCheckout => "收银", "Checkout";
        TabOrders => "兑换单", "Orders";
        TabSignupCode => "拉新码", "Sign-up";
        SignupCodeTitle => "我的拉新码", "My sign-up code";
        SignupCodeLead => "请顾客用手机扫码开卡，新会员计入 {store} 和你的拉新业绩", "Customers scan this to join; new members count for {store} and for you";
        SignupCodeLoading => "正在生成…", "Preparing…";
        OrderLabel => "兑换码", "Order code";
        OrderPlaceholder => "扫描或输入 10 位兑换码", "Scan or type the 10-character code";
        OrderHint => "会员在「我的兑换」中出示兑换码；收银页扫码也会打开兑换单", "Members show the code under My redemptions; scanning it on the checkout page works too";
        Item => "商品", "Item";
        PointsSpent => "消耗积分", "Points spent";
        CashToCollect => "需收现金", "Cash to collect";
        Member => "会员", "Member";
        OrderedAt => "兑换时间", "Redeemed";
        CollectedAt => "领取", "Collected";
        ClosedAt => "关闭", "Closed";
        Reason => "原因", "Reason";
        Collect => "确认领取", "Hand over";
        Submitting => "提交中…", "Submitting…";
        CancelOrder => "取消订单", "Cancel order";
        RefundOrder => "退单并退还积分（店长）", "Take back and refund points (manager)";
        CancelReason => "取消原因", "Reason";
        CancelReasonPlaceholder => "例如：会员不需要了", "e.g. the member changed their mind";
        ConfirmCancel => "确认取消并退还积分", "Cancel and return the points";
        RetryCancel => "重试（不会重复退还）", "Retry (points are returned once)";
        Back => "返回", "Back";
        Collected => "已确认领取，请将商品交给会员", "Handed over: give the item to the member";
        Cancelled => "订单已取消，已退还 {n} 积分（会员现有 {m} 积分）", "Order cancelled: {n} points returned (member now has {m})";
        OrderRefunded => "已退单，已退还 {n} 积分（会员现有 {m} 积分）", "Order taken back: {n} points refunded (member now has {m})";
        RefundReason => "退款原因", "Reason for the refund";
        RefundOrderReasonPlaceholder => "例如：商品有质量问题", "e.g. the item is faulty";
        ConfirmRefundOrder => "确认退单并退还积分", "Take back and refund the points";

        FindMember => "找会员", "Find member";
        FindLabel => "手机号或会员号", "Phone or member number";
        FindPlaceholder => "完整 11 位手机号或 10 位会员号", "Full phone or 10-digit member no.";
        FindSubmit => "查找", "Find";
        FindHint => "会员无法出示会员码时使用；请与会员核对姓名和手机号", "When the member can't show a code: check name and phone with them";
        ConfirmMember => "是本人，继续", "Yes, continue";
        PurchasedAt => "消费时间", "Purchased";
        NotThisMember => "不是", "Not them";
        FoundByLookup => "按手机号/会员号查找，无会员码", "Found by phone or member number, no code";

        TabRefunds => "退款", "Refunds";
        RefundsTitle => "消费退款", "Refund a purchase";
        RefundSearchLabel => "订单号", "Order no.";
        RefundSearchPlaceholder => "输入订单号查找", "Type the order number";
        RecentPurchases => "本店最近消费", "Recent purchases in this store";
        NoPurchases => "本店暂无消费记录", "No purchases in this store yet";
        LoadMore => "加载更多", "More";
        RefundedSoFar => "已退", "Refunded";
        RefundLeft => "可退", "Left to refund";
        PointsEarnedShort => "获得积分", "Points earned";
        RefundAmount => "退款金额（元）", "Refund amount (CNY)";
        RefundAmountHint => "默认退剩余全部；部分退款按金额比例扣回积分", "Defaults to all that is left; a part refund takes back points in proportion";
        RefundPurchaseReasonPlaceholder => "例如：顾客退回一件商品", "e.g. one item returned";
        ConfirmRefund => "确认退款 {amount}", "Refund {amount}";
        RetryRefund => "重试退款（不会重复退款）", "Retry (refunds once)";
        RefundDone => "已退款 {amount}，扣回 {n} 积分（会员现有 {m} 积分）", "Refunded {amount}: {n} points taken back (member now has {m})";
        RefundShortfall => "会员已用掉 {n} 积分，记为欠分，之后的积分先抵扣", "{n} points were already spent: recorded as owed, paid off by later points";
        CouponsBack => "{n} 张优惠券已退回会员券包", "{n} coupons went back to the member's wallet";
        FullyRefunded => "已全额退款", "Fully refunded";
        PartRefunded => "部分退款", "Part refunded";
        ManagersOnly => "退款需店长或管理员账号", "Refunds need a store manager or admin account";

        UnlockTitle => "店员登录受限", "A colleague can't sign in";
        UnlockHint => "输错密码多次后需等待；为本店店员解除后可立即登录", "After wrong passwords the sign-in waits; lift it for your store's staff";
        UnlockUsername => "店员账号", "Staff username";
        Unlock => "解除限制", "Lift the wait";
        Unlocked => "{username} 现在可以登录了", "{username} can sign in now";
        NoSuchStaff => "没有这个店员账号", "No such staff account";
        AskManagerToUnlock => "也可请店长在「退款」页为你解除", "Or ask your store manager to lift it on the Refunds tab";
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{Lang, Text};

    #[test]
    fn every_key_has_both_languages() {
        for k in S::ALL {
            assert!(!k.text(Lang::ZhCn).is_empty(), "{k:?}");
            assert!(!k.text(Lang::En).is_empty(), "{k:?}");
        }
    }
}

//! Text of the coupon wallet, claim links and the member's profile (mall bundle).

texts! {
    /// Wallet, claim and profile strings.
    W {
        Title => "我的优惠券", "My coupons";
        Coupons => "优惠券", "Coupons";
        BackToCard => "会员卡", "Card";
        BackToWallet => "券包", "Coupons";
        Loading => "加载中…", "Loading…";
        Retry => "重试", "Retry";
        TabUsable => "可用", "Usable";
        TabUsed => "已使用", "Used";
        TabExpired => "已过期", "Expired";
        EmptyUsable => "暂无可用优惠券", "No coupons to use";
        EmptyUsed => "还没有使用过优惠券", "No coupons used yet";
        EmptyExpired => "没有过期的优惠券", "No expired coupons";
        GoMall => "去积分商城看看", "Browse the points mall";
        New => "新", "New";
        UsedAtStore => "{time} 于 {store} 使用", "Used {time} at {store}";
        UsedAt => "{time} 使用", "Used {time}";
        Saved => "优惠 {amount}", "Saved {amount}";
        ExpiredOn => "已于 {date} 过期", "Expired {date}";
        Profile => "个人资料", "Profile";
        BirthdayHint => "完善生日，生日月可领生日礼", "Add your birthday to get a birthday gift";

        DetailTitle => "券详情", "Coupon";
        Rules => "使用规则", "Terms";
        Stackable => "可与其他可叠加券同时使用", "Can be combined with other combinable coupons";
        NotStackable => "不可与其他券同时使用", "Cannot be combined with other coupons";
        Stores => "适用门店：{stores}", "Stores: {stores}";
        AllStores => "全部门店可用", "Valid in every store";
        Window => "有效期：{from} 至 {to}", "Valid: {from} to {to}";
        Source => "获得方式：{source}", "How you got it: {source}";
        Code => "券码", "Coupon code";
        ShowCashier => "结账时向店员出示此码", "Show this code to the cashier";
        Status => "状态", "Status";
        NotFound => "未找到这张优惠券", "No such coupon";

        ClaimTitle => "领取优惠券", "Get coupons";
        ClaimNow => "立即领取", "Get them now";
        Claiming => "领取中…", "Getting…";
        ClaimedNow => "领取成功，已放入您的券包", "Done: the coupons are in your wallet";
        AlreadyClaimed => "您已领取过，券在您的券包里", "You already have these coupons";
        Remaining => "仅剩 {n} 份", "Only {n} left";
        Closed => "活动已结束", "This offer has ended";
        Exhausted => "券已被领完", "All coupons have been given out";
        SignInToClaim => "登录后领取", "Sign in to get them";
        SignInHint => "领取前请先登录会员卡，登录后会回到本页", "Sign in with your member card first; you will come back here";
        ViewWallet => "查看我的券包", "See my coupons";
        Times => "× {n}", "× {n}";
        NoSuchLink => "领券链接无效", "This link is not valid";

        ProfileTitle => "个人资料", "Profile";
        Name => "姓名", "Name";
        Phone => "手机号", "Mobile";
        Birthday => "生日", "Birthday";
        BirthdayOnce => "生日一年只能修改一次", "Your birthday can be changed once a year";
        BirthdayLocked => "生日已设置，{date} 后可再修改", "Birthday set; it can change again after {date}";
        BirthdayCurrent => "当前生日：{date}", "Current birthday: {date}";
        Marketing => "接收会员活动与优惠信息", "Send me member offers and news";
        Save => "保存", "Save";
        Saving => "保存中…", "Saving…";
        SavedOk => "已保存", "Saved";
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{Lang, Text};

    #[test]
    fn every_key_has_both_languages() {
        for k in W::ALL {
            assert!(!k.text(Lang::ZhCn).is_empty(), "{k:?}");
            assert!(!k.text(Lang::En).is_empty(), "{k:?}");
        }
    }
}

//! Text of the member app (login, e-card, points history) and the shared chrome.

texts! {
    /// Member app strings.
    M {
        Brand => "会员中心", "Member Center";
        LangToggle => "EN", "中文";
        LangToggleLabel => "Switch to English", "切换到中文";
        Loading => "加载中…", "Loading…";
        Retry => "重试", "Retry";
        Profile => "个人资料", "Profile";
        LogoutAsk => "确定在这台设备上退出登录吗？", "Sign out on this device?";
        Cancel => "取消", "Cancel";

        LoginTitle => "登录 / 注册", "Sign in / Join";
        LoginSubtitle => "输入手机号，用短信验证码登录；新用户自动开卡", "Sign in with an SMS code; new customers get a card right away";
        PhoneLabel => "手机号", "Mobile number";
        PhonePlaceholder => "请输入 11 位手机号", "11-digit mobile number";
        SendCode => "获取验证码", "Get code";
        Sending => "发送中…", "Sending…";
        ResendIn => "{n} 秒后重新获取", "Resend in {n}s";
        CodeSent => "验证码已发送，10 分钟内有效", "Code sent, valid for 10 minutes";
        OtpLabel => "验证码", "Verification code";
        OtpPlaceholder => "6 位数字", "6 digits";
        NameLabel => "姓名", "Name";
        NameHint => "新会员请填写", "Required for new members";
        ConsentBefore => "我已阅读并同意", "I have read and agree to the ";
        PrivacyDoc => "《隐私政策》", "Privacy Policy";
        ConsentAnd => "和", " and ";
        TermsDoc => "《会员章程》", "Membership Terms";
        ConsentAfter => "（必选）", " (required)";
        NeedConsent => "请先勾选同意《隐私政策》和《会员章程》", "Tick the box to agree to the Privacy Policy and Membership Terms first";
        MarketingConsent => "愿意接收会员活动与优惠信息（可选）", "Send me member offers and news (optional)";
        Verify => "登录 / 开卡", "Sign in / Join";
        Verifying => "正在登录…", "Signing in…";

        ShowAtCheckout => "结账时请出示此码", "Show this code at checkout";
        MemberNo => "会员号", "Member no.";
        RefreshIn => "秒后自动刷新", "s until refresh";
        QrLabel => "会员动态码", "Member code";
        Points => "积分", "Points";
        Growth => "成长值", "Growth";
        NextTierHint => "还差 {n} 成长值升级为 {tier}", "{n} more growth to reach {tier}";
        TopTier => "您已是最高等级会员", "You are at the top tier";
        KeepNeed => "{date}前再累计 {n} 成长值可保持{tier}", "Earn {n} more growth by {date} to keep {tier}";
        KeepDone => "已保级{tier}至 {date}", "{tier} kept through {date}";
        UpgradedKeepNeed => "已升级为{tier} · {date}前累计 {n} 成长值可保持", "Upgraded to {tier} · earn {n} growth by {date} to keep it";
        UpgradedKeepDone => "已升级为{tier} · 已满足保级条件（至 {date}）", "Upgraded to {tier} · already kept ({date})";
        Inbox => "消息", "Messages";
        PointsHistory => "积分明细", "Points history";
        Logout => "退出登录", "Sign out";
        OfflineCard => "网络不可用，正在显示本机保存的会员卡", "Offline: showing the card saved on this device";
        KeyMissing => "正在获取会员码…", "Getting your member code…";

        HistoryTitle => "积分明细", "Points history";
        HistoryEmpty => "暂无积分记录", "No points activity yet";
        LoadMore => "加载更多", "Load more";
        BackToCard => "返回会员卡", "Back to card";
        KindEarn => "消费获得", "Earned";
        KindRedeem => "积分兑换", "Redeemed";
        KindExpire => "积分过期", "Expired";
        KindAdjust => "积分调整", "Adjusted";
        KindRefund => "退款扣回", "Refunded";
        KindReturned => "兑换退还", "Returned";
        KindPurchase => "消费", "Purchase";
        KindSettle => "抵扣退货欠分", "Points owed from a return";
        KindReferralReward => "邀请好友奖励", "Reward for inviting a friend";
        KindReferralWelcome => "好友邀请奖励", "Welcome reward for joining by invitation";
        KindImport => "旧系统积分导入", "Points from the old system";
        KindUpgrade => "升级礼", "Upgrade gift";
        KindReferral => "邀请奖励", "Referral reward";
        Paid => "实付 {amount}", "Paid {amount}";
        PaidWithDiscount => "实付 {amount}，优惠 {discount}", "Paid {amount}, {discount} off";
        ItemTimes => "{item} ×{n}", "{item} ×{n}";
        UpgradedTo => "升级为{tier}", "Reached {tier}";
        ValidThrough => "有效期至 {date}", "valid through {date}";
        Offline => "网络不可用", "You're offline";
        OfflineHint => "请检查网络连接后重试", "Check your connection and try again";
        Expiring => "{n} 分将于 {date} 过期", "{n} points expire on {date}";
        Mall => "积分商城", "Points mall";
        MyOrders => "我的兑换", "My redemptions";
        Invite => "邀请好友", "Invite friends";
        Coupons => "优惠券", "Coupons";
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{Lang, Text};

    #[test]
    fn every_key_has_both_languages() {
        for k in M::ALL {
            assert!(!k.text(Lang::ZhCn).is_empty(), "{k:?}");
            assert!(!k.text(Lang::En).is_empty(), "{k:?}");
        }
    }
}

//! Text of the in-store sign-up (`/join`) and the invite-a-friend page (`/invite`), both
//! in the mall bundle.

texts! {
    /// Sign-up and referral strings.
    J {
        Welcome => "欢迎加入{brand}", "Welcome to {brand}";
        AtStore => "{store} 欢迎你", "Welcome from {store}";
        GiftTitle => "新人礼", "Welcome gift";
        GiftNote => "注册后自动放入券包", "Goes into your wallet when you join";
        InvitedBy => "{name} 邀请你加入", "{name} invited you";
        LinkExpired => "这个二维码已过期，你仍然可以注册成为会员。", "This QR code has expired. You can still join.";
        LinkRevoked => "这个二维码已停用，你仍然可以注册成为会员。", "This QR code is no longer in use. You can still join.";
        LinkInvalid => "无法识别这个二维码，你仍然可以注册成为会员。", "We couldn't read this QR code. You can still join.";
        Loading => "加载中…", "Loading…";
        JoinTitle => "手机号注册 / 登录", "Join or sign in with your phone";
        Phone => "手机号", "Mobile number";
        SendCode => "获取验证码", "Send code";
        Sending => "发送中…", "Sending…";
        ResendIn => "{n} 秒后重发", "Resend in {n}s";
        CodeSent => "验证码已发送", "Code sent";
        Code => "验证码", "Code";
        Name => "姓名", "Name";
        Birthday => "生日", "Birthday";
        Gender => "性别", "Gender";
        Female => "女", "Female";
        Male => "男", "Male";
        Other => "其他", "Other";
        City => "城市", "City";
        Optional => "选填", "optional";
        Marketing => "接收优惠和活动消息（可随时退订）", "Send me offers and news (unsubscribe any time)";
        Join => "立即开卡", "Join now";
        Joining => "开卡中…", "Joining…";
        AlreadyMember => "你已经是会员", "You are a member already";
        OpenCard => "打开会员卡", "Open my card";
        InviteTitle => "邀请好友", "Invite friends";
        InviteLead => "好友扫码或打开链接注册", "Friends scan the code or open the link to join";
        YourCode => "邀请码", "Your code";
        CopyLink => "复制邀请链接", "Copy invite link";
        Copied => "已复制", "Copied";
        Invited => "已邀请", "Joined";
        Pending => "待首单", "Pending";
        Rewarded => "已奖励", "Rewarded";
        PointsEarned => "获得积分", "Points earned";
        InviteOff => "邀请活动暂未开放", "Invitations are not open right now";
        BackToCard => "会员卡", "Card";
        RewardLine => "好友首次消费后，你得 {mine}，好友得 {theirs}", "After your friend's first purchase you get {mine} and your friend gets {theirs}";
        FriendReward => "首次消费后你将获得 {theirs}", "Your first purchase brings you {theirs}";
        PointsN => "{n} 积分", "{n} points";
        AndCoupons => "{what}和优惠券", "{what} and coupons";
        Coupons => "优惠券", "coupons";
    }
}

use super::{fill, Lang, Text};
use member_core::dto::ReferralReward;

/// "200 积分和优惠券" / "200 points and coupons".
fn gift(lang: Lang, points: i64, coupons: bool) -> String {
    let pts = fill(J::PointsN.text(lang), &[("n", &points.to_string())]);
    match (points > 0, coupons) {
        (true, true) => fill(J::AndCoupons.text(lang), &[("what", &pts)]),
        (true, false) => pts,
        (false, _) => J::Coupons.text(lang).to_string(),
    }
}

/// The share page's line: what each side gets.
pub fn reward_line(lang: Lang, r: &ReferralReward) -> String {
    fill(
        J::RewardLine.text(lang),
        &[
            ("mine", &gift(lang, r.referrer_points, r.referrer_coupons)),
            ("theirs", &gift(lang, r.friend_points, r.friend_coupons)),
        ],
    )
}

/// The welcome page's line for an invited friend.
pub fn friend_line(lang: Lang, r: &ReferralReward) -> String {
    fill(
        J::FriendReward.text(lang),
        &[("theirs", &gift(lang, r.friend_points, r.friend_coupons))],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reward_lines_read_naturally() {
        let r = ReferralReward {
            referrer_points: 200,
            friend_points: 100,
            referrer_coupons: true,
            friend_coupons: false,
        };
        assert_eq!(
            reward_line(Lang::ZhCn, &r),
            "好友首次消费后，你得 200 积分和优惠券，好友得 100 积分"
        );
        assert_eq!(
            reward_line(Lang::En, &r),
            "After your friend's first purchase you get 200 points and coupons and your friend gets 100 points"
        );
    }

    #[test]
    fn every_key_has_both_languages() {
        for k in J::ALL {
            assert!(!k.text(Lang::ZhCn).is_empty(), "{k:?}");
            assert!(!k.text(Lang::En).is_empty(), "{k:?}");
        }
    }
}

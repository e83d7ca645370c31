//! Plain-language text for the server's error codes (`member_core::dto::codes`) and the
//! few errors the app finds itself before sending anything.

use member_core::dto::codes;

use super::Lang;

/// The network failed (offline, server down): nothing reached the server, or no answer came.
pub const NETWORK: &str = "network";
/// The answer was not what the contract says.
pub const UNEXPECTED: &str = "unexpected";
/// The one-time code typed is not six digits.
pub const OTP_FORMAT: &str = "otp_format";
/// A typed or scanned value that cannot be a points-mall order code.
pub const ORDER_CODE_MALFORMED: &str = "order_code_malformed";
/// A 404 when looking up an order: more helpful than the generic "not found".
pub const ORDER_NOT_FOUND: &str = "order_not_found";

pub fn error_text(lang: Lang, code: &str) -> &'static str {
    let (zh, en) = match code {
        codes::INVALID_PHONE => (
            "请输入正确的 11 位中国大陆手机号",
            "Enter a valid 11-digit mainland China mobile number",
        ),
        codes::INVALID_CODE => ("验证码不正确", "That code is not correct"),
        OTP_FORMAT => ("请输入 6 位数字验证码", "Enter the 6-digit code"),
        codes::CONSENT_REQUIRED => (
            "请先阅读并同意隐私政策",
            "Please accept the privacy policy first",
        ),
        codes::NAME_REQUIRED => ("新会员请填写姓名", "New members: please enter your name"),
        codes::OTP_EXPIRED => (
            "验证码已过期，请重新获取",
            "The code has expired; request a new one",
        ),
        codes::OTP_LOCKED => (
            "错误次数过多，请重新获取验证码",
            "Too many wrong tries; request a new code",
        ),
        codes::RATE_LIMITED => (
            "操作太频繁，请稍后再试",
            "Too many attempts; please wait and try again",
        ),
        codes::UNAUTHENTICATED => (
            "登录已过期，请重新登录",
            "Your session has ended; please sign in again",
        ),
        codes::FORBIDDEN => ("没有权限执行此操作", "You are not allowed to do this"),
        codes::NOT_FOUND => ("未找到", "Not found"),
        codes::BAD_CREDENTIALS => ("用户名或密码不正确", "Wrong username or password"),
        codes::CARD_CODE_MALFORMED => (
            "会员码格式不正确：应为 16 位数字",
            "Member code must be 16 digits",
        ),
        codes::CARD_CODE_INVALID => (
            "会员码无效，请会员刷新会员卡后重新扫码",
            "Invalid member code: ask the member to refresh the card and scan again",
        ),
        codes::CARD_CODE_EXPIRED => (
            "会员码已过期，请会员刷新会员卡后重新扫码",
            "Member code expired: ask the member to refresh the card and scan again",
        ),
        codes::CARD_CODE_USED => (
            "该会员码已使用，请会员刷新后重新扫码",
            "This code was already used: ask the member to refresh and scan again",
        ),
        codes::TOO_MANY_WRONG_CODES => (
            "错误会员码过多，请稍等一分钟再扫码",
            "Too many wrong member codes: wait a minute, then scan again",
        ),
        codes::INVALID_AMOUNT => (
            "请输入正确的金额（大于 0，最多两位小数）",
            "Enter a valid amount (above 0, at most 2 decimals)",
        ),
        codes::DUPLICATE_ORDER => (
            "该订单号已记录过积分",
            "This order number was already recorded",
        ),
        codes::IDEMPOTENCY_KEY_REUSED => (
            "提交内容与上次不一致，请重新提交",
            "The details changed since the last try; submit again",
        ),
        codes::REQUEST_IN_PROGRESS => (
            "上一次提交仍在处理中，请稍候再试",
            "The previous attempt is still being processed; try again shortly",
        ),
        codes::INVALID_INPUT => ("输入有误，请检查后重试", "Please check what you entered"),
        NETWORK => (
            "网络连接失败，请检查网络后重试",
            "Network problem: check the connection and retry",
        ),
        _ => (
            "出错了，请稍后再试",
            "Something went wrong; please try again",
        ),
    };
    lang.pick(zh, en)
}

/// No member with that phone or member number (a 404 of the look-up).
pub const MEMBER_NOT_FOUND: &str = "member_not_found";
/// No purchase with that order number in this store.
pub const PURCHASE_NOT_FOUND: &str = "purchase_not_found";

/// The points-mall and coupon codes (mall and staff bundles), else [`error_text`]. Kept
/// apart so the member card's bundle, which has a size budget, does not carry these texts.
pub fn mall_error_text(lang: Lang, code: &str) -> &'static str {
    let (zh, en) = match code {
        codes::INSUFFICIENT_POINTS => ("积分不足", "Not enough points"),
        codes::OUT_OF_STOCK => ("已兑完", "Out of stock"),
        codes::LIMIT_REACHED => ("已达兑换上限", "You have reached the limit for this item"),
        codes::TIER_REQUIRED => ("会员等级不足，暂不可兑换", "This item is for a higher tier"),
        codes::ITEM_UNAVAILABLE => ("暂不可兑换", "Not available right now"),
        codes::INVALID_QUANTITY => ("兑换数量不正确", "That quantity is not possible"),
        codes::ORDER_CLOSED => (
            "该订单已领取/已取消",
            "This order was already collected or cancelled",
        ),
        codes::ALREADY_REFUNDED => ("该消费已退款", "This purchase was already refunded"),
        ORDER_CODE_MALFORMED => (
            "兑换码格式不正确：应为 10 位字母或数字",
            "An order code has 10 letters and digits",
        ),
        ORDER_NOT_FOUND => (
            "未找到该兑换单，请核对兑换码",
            "No such order: check the code",
        ),
        codes::COUPON_NOT_FOUND => (
            "该优惠券不属于这位会员或不存在",
            "That coupon is not this member's (or does not exist)",
        ),
        codes::COUPON_USED => ("该优惠券已使用", "That coupon was already used"),
        codes::COUPON_EXPIRED => ("该优惠券已过期", "That coupon has expired"),
        codes::COUPON_NOT_YET_VALID => ("该优惠券还未到使用时间", "That coupon is not valid yet"),
        codes::COUPON_MIN_SPEND => (
            "消费金额未达到优惠券的使用门槛",
            "The amount is below the coupon's minimum spend",
        ),
        codes::COUPON_WRONG_STORE => (
            "该优惠券不能在本店使用",
            "That coupon is not valid in this store",
        ),
        codes::COUPONS_NOT_STACKABLE => (
            "所选优惠券不能同时使用",
            "These coupons cannot be used together",
        ),
        codes::COUPON_DUPLICATE => (
            "优惠券重复或数量过多",
            "A coupon was named twice, or too many coupons",
        ),
        codes::COUPONS_EXHAUSTED => ("券已被领完", "All coupons have been given out"),
        codes::CAMPAIGN_CLOSED => ("活动已结束", "This offer has ended"),
        codes::BIRTHDAY_LOCKED => (
            "生日一年只能修改一次，暂时不能修改",
            "Your birthday can be changed only once a year",
        ),
        codes::STORE_REQUIRED => (
            "该账号未绑定门店，不能记录消费",
            "This account has no store, so it cannot record purchases",
        ),
        codes::FIELD_REQUIRED => ("请填写标 * 的必填项", "Please fill in the fields marked *"),
        codes::REFUND_TOO_LARGE => (
            "退款金额超过可退金额",
            "That is more than is left to refund",
        ),
        codes::LOOKUP_REQUIRED => ("请先查找并确认会员", "Find and confirm the member first"),
        codes::LOOKUP_EXPIRED => (
            "查找已过期，请重新查找会员",
            "The look-up has expired: find the member again",
        ),
        MEMBER_NOT_FOUND => (
            "未找到该会员，请核对手机号或会员号",
            "No such member: check the phone or member number",
        ),
        PURCHASE_NOT_FOUND => (
            "本店没有这个订单号的消费",
            "No purchase with that order number in this store",
        ),
        _ => return error_text(lang, code),
    };
    lang.pick(zh, en)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mall_refusals_are_plain_words() {
        assert_eq!(
            error_text(Lang::ZhCn, codes::OUT_OF_STOCK),
            "出错了，请稍后再试"
        );
        assert_eq!(mall_error_text(Lang::ZhCn, codes::OUT_OF_STOCK), "已兑完");
        assert_eq!(
            mall_error_text(Lang::ZhCn, codes::INSUFFICIENT_POINTS),
            "积分不足"
        );
        assert_eq!(
            mall_error_text(Lang::ZhCn, codes::ORDER_CLOSED),
            "该订单已领取/已取消"
        );
        assert_eq!(
            mall_error_text(Lang::ZhCn, codes::COUPON_USED),
            "该优惠券已使用"
        );
        assert_eq!(
            mall_error_text(Lang::En, codes::CAMPAIGN_CLOSED),
            "This offer has ended"
        );
        // Everything else falls through to the shared texts.
        assert_eq!(
            mall_error_text(Lang::En, codes::RATE_LIMITED),
            error_text(Lang::En, codes::RATE_LIMITED)
        );
    }

    #[test]
    fn card_code_used_reads_as_the_cashier_expects() {
        assert_eq!(
            error_text(Lang::ZhCn, codes::CARD_CODE_USED),
            "该会员码已使用，请会员刷新后重新扫码"
        );
        assert_ne!(error_text(Lang::En, "whatever"), "");
    }
}

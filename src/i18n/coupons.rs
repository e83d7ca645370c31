//! Coupon words shared by the wallet (mall bundle) and the staff checkout: what a coupon
//! gives, its minimum spend, why it was issued, why it can't be used now, and its dates.
//! Not in the member bundle (size budget): the card only shows a count.

use member_core::civil::{self, Date};
use member_core::coupons;
use member_core::dto::{codes, CouponBenefit};

use super::{fill, Lang, Text};

texts! {
    /// Coupon terms.
    Cp {
        Gift => "赠品", "Gift";
        Free => "赠 {item}", "Free {item}";
        Cap => "最高减{amount}", "Up to {amount} off";
        NoMinimum => "无门槛", "No minimum";
        MinSpend => "满{n}可用", "Spend {amount}+";
        ExpiresToday => "今天到期", "Expires today";
        ExpiresIn => "{n}天后过期", "Expires in {n} days";
        ExpiresTomorrow => "明天到期", "Expires tomorrow";
        ValidUntil => "有效期至 {date}", "Valid until {date}";
        ValidFrom => "{date} 起可用", "Usable from {date}";
        BelowMin => "未满{amount}", "Below {amount}";
        NotHere => "本店不可用", "Not valid in this store";
        NotYet => "未到使用时间", "Not valid yet";
        Expired => "已过期", "Expired";
        Used => "已使用", "Used";
        Alone => "不可与其他券同用", "Cannot be combined";
        NotUsable => "暂不可用", "Not usable now";
    }
}

/// `¥20`, `¥12.50`: whole yuan without the fen.
pub fn yuan(cents: i64) -> String {
    if cents % 100 == 0 {
        format!("¥{}", cents / 100)
    } else {
        format!("¥{}.{:02}", cents / 100, (cents % 100).abs())
    }
}

/// The benefit in big type: `¥20`, `9折` / `10% off`, `赠品`.
pub fn benefit_big(lang: Lang, b: &CouponBenefit) -> String {
    match b.kind.as_str() {
        "amount" => yuan(b.amount_off_cents),
        "percent" => {
            let pay = 100 - b.percent_off.clamp(0, 100);
            match lang {
                Lang::ZhCn if pay % 10 == 0 => format!("{}折", pay / 10),
                Lang::ZhCn => format!("{}.{}折", pay / 10, pay % 10),
                Lang::En => format!("{}% off", b.percent_off),
            }
        }
        _ => Cp::Gift.text(lang).to_string(),
    }
}

/// The small print under the benefit: a percent coupon's cap, a gift's item.
pub fn benefit_note(lang: Lang, b: &CouponBenefit) -> Option<String> {
    match b.kind.as_str() {
        "percent" => b
            .cap_cents
            .map(|c| fill(Cp::Cap.text(lang), &[("amount", &yuan(c))])),
        "gift" => b
            .gift_name
            .as_deref()
            .map(|item| fill(Cp::Free.text(lang), &[("item", item)])),
        _ => None,
    }
}

/// `满100可用` / `无门槛`.
pub fn min_spend(lang: Lang, cents: i64) -> String {
    if cents <= 0 {
        return Cp::NoMinimum.text(lang).to_string();
    }
    let n = yuan(cents);
    fill(
        Cp::MinSpend.text(lang),
        &[("n", n.trim_start_matches('¥')), ("amount", &n)],
    )
}

/// Why a coupon was issued, in the member's words.
pub fn source_text(lang: Lang, source: &str) -> &'static str {
    match source {
        "signup" => lang.pick("新人礼", "Welcome gift"),
        "upgrade" => lang.pick("升级礼", "Tier upgrade gift"),
        "birthday" => lang.pick("生日礼", "Birthday gift"),
        "member_day" => lang.pick("会员日", "Member day"),
        "winback" => lang.pick("回归礼", "Welcome back gift"),
        "claim" => lang.pick("领券", "Claimed"),
        "mall" => lang.pick("积分兑换", "Points mall"),
        "manual" => lang.pick("商家赠送", "From the brand"),
        _ => lang.pick("其他", "Other"),
    }
}

/// A coupon's `status` in words.
pub fn status_text(lang: Lang, status: &str) -> &'static str {
    match status {
        "usable" => lang.pick("可使用", "Usable"),
        "upcoming" => lang.pick("未到使用时间", "Not valid yet"),
        "used" => Cp::Used.text(lang),
        "expired" => Cp::Expired.text(lang),
        "void" => lang.pick("已作废", "Void"),
        _ => lang.pick("处理中", "Processing"),
    }
}

/// Why a coupon can't be used for this basket (a refusal's error code), short enough
/// for the line next to its checkbox.
pub fn refusal_text(lang: Lang, code: &str, min_spend_cents: i64) -> String {
    let key = match code {
        codes::COUPON_MIN_SPEND => {
            return fill(
                Cp::BelowMin.text(lang),
                &[("amount", &yuan(min_spend_cents))],
            )
        }
        codes::COUPON_WRONG_STORE => Cp::NotHere,
        codes::COUPON_NOT_YET_VALID => Cp::NotYet,
        codes::COUPON_EXPIRED => Cp::Expired,
        codes::COUPON_USED => Cp::Used,
        codes::COUPONS_NOT_STACKABLE => Cp::Alone,
        _ => Cp::NotUsable,
    };
    key.text(lang).to_string()
}

/// `12月31日` / `Dec 31`, with the year when it is not `this_year`.
pub fn day_text(lang: Lang, d: Date, this_year: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS
        .get(usize::try_from(d.month).unwrap_or(1).saturating_sub(1))
        .copied()
        .unwrap_or("");
    match (lang, d.year == this_year) {
        (Lang::ZhCn, true) => format!("{}月{}日", d.month, d.day),
        (Lang::ZhCn, false) => format!("{}年{}月{}日", d.year, d.month, d.day),
        (Lang::En, true) => format!("{month} {}", d.day),
        (Lang::En, false) => format!("{month} {}, {}", d.day, d.year),
    }
}

/// The last local day a coupon expiring at `expires_ts` can be used.
pub fn last_day(expires_ts: i64) -> Date {
    civil::local_date(expires_ts - 1)
}

/// `有效期至 12月31日`, or `12月1日 起可用` for a coupon not valid yet.
pub fn validity_text(lang: Lang, valid_from_ts: i64, expires_ts: i64, now: i64) -> String {
    let year = civil::local_date(now).year;
    if now < valid_from_ts {
        let from = day_text(lang, civil::local_date(valid_from_ts), year);
        return fill(Cp::ValidFrom.text(lang), &[("date", &from)]);
    }
    let until = day_text(lang, last_day(expires_ts), year);
    fill(Cp::ValidUntil.text(lang), &[("date", &until)])
}

/// `今天到期` / `明天到期` / `3天后过期` for a usable coupon that expires soon.
pub fn expiry_mark(lang: Lang, expires_ts: i64, now: i64) -> Option<String> {
    if !coupons::expiring_soon(expires_ts, now) {
        return None;
    }
    Some(match coupons::days_left(expires_ts, now) {
        1 => Cp::ExpiresToday.text(lang).to_string(),
        2 => Cp::ExpiresTomorrow.text(lang).to_string(),
        d => fill(Cp::ExpiresIn.text(lang), &[("n", &(d - 1).to_string())]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn benefit(
        kind: &str,
        off: i64,
        pct: i64,
        cap: Option<i64>,
        gift: Option<&str>,
    ) -> CouponBenefit {
        CouponBenefit {
            kind: kind.into(),
            amount_off_cents: off,
            percent_off: pct,
            cap_cents: cap,
            gift_name: gift.map(Into::into),
        }
    }

    #[test]
    fn every_key_has_both_languages() {
        for k in Cp::ALL {
            assert!(!k.text(Lang::ZhCn).is_empty(), "{k:?}");
            assert!(!k.text(Lang::En).is_empty(), "{k:?}");
        }
    }

    #[test]
    fn benefits_read_like_a_coupon() {
        let zh = Lang::ZhCn;
        assert_eq!(
            benefit_big(zh, &benefit("amount", 2000, 0, None, None)),
            "¥20"
        );
        assert_eq!(
            benefit_big(zh, &benefit("amount", 1250, 0, None, None)),
            "¥12.50"
        );
        assert_eq!(
            benefit_big(zh, &benefit("percent", 0, 10, Some(3000), None)),
            "9折"
        );
        assert_eq!(
            benefit_big(zh, &benefit("percent", 0, 15, None, None)),
            "8.5折"
        );
        assert_eq!(
            benefit_big(Lang::En, &benefit("percent", 0, 15, None, None)),
            "15% off"
        );
        assert_eq!(
            benefit_note(zh, &benefit("percent", 0, 10, Some(3000), None)).as_deref(),
            Some("最高减¥30")
        );
        let gift = benefit("gift", 0, 0, None, Some("加料"));
        assert_eq!(benefit_big(zh, &gift), "赠品");
        assert_eq!(benefit_note(zh, &gift).as_deref(), Some("赠 加料"));
        assert_eq!(min_spend(zh, 10_000), "满100可用");
        assert_eq!(min_spend(Lang::En, 10_000), "Spend ¥100+");
        assert_eq!(min_spend(zh, 0), "无门槛");
        assert_eq!(
            refusal_text(zh, codes::COUPON_MIN_SPEND, 10_000),
            "未满¥100"
        );
        assert_eq!(source_text(zh, "signup"), "新人礼");
    }

    #[test]
    fn dates_and_expiry_marks() {
        let d = |y, m, day| Date {
            year: y,
            month: m,
            day,
        };
        // A coupon good through 2026-12-31 expires at local midnight starting 2027-01-01.
        let expires = civil::local_midnight(d(2027, 1, 1));
        let now = civil::local_midnight(d(2026, 12, 30)) + 3600;
        assert_eq!(
            validity_text(Lang::ZhCn, 0, expires, now),
            "有效期至 12月31日"
        );
        assert_eq!(
            validity_text(Lang::En, 0, expires, now),
            "Valid until Dec 31"
        );
        let early = civil::local_midnight(d(2025, 12, 30));
        assert_eq!(
            validity_text(Lang::ZhCn, 0, expires, early),
            "有效期至 2026年12月31日"
        );
        assert_eq!(
            expiry_mark(Lang::ZhCn, expires, now).as_deref(),
            Some("明天到期")
        );
        assert_eq!(
            expiry_mark(Lang::ZhCn, expires, now + 86_400).as_deref(),
            Some("今天到期")
        );
        assert_eq!(
            expiry_mark(Lang::ZhCn, expires, now - 2 * 86_400).as_deref(),
            Some("3天后过期")
        );
        assert_eq!(expiry_mark(Lang::ZhCn, expires, now - 5 * 86_400), None);
        assert_eq!(expiry_mark(Lang::ZhCn, expires, expires), None);
    }
}

//! Text of the tier screens (mall bundle): benefits comparison, growth history, inbox.

use super::{fill, Lang};

texts! {
    /// Tier, growth and inbox strings.
    T {
        TiersTitle => "会员等级与权益", "Tiers and benefits";
        GrowthTitle => "成长值明细", "Growth history";
        InboxTitle => "消息", "Messages";
        BackToCard => "会员卡", "Card";
        Loading => "加载中…", "Loading…";
        Retry => "重试", "Retry";
        Current => "当前等级", "Your tier";
        Threshold => "成长值 {n}", "{n} growth";
        SpendAlt => "或消费满 {amount}", "or spend {amount}";
        Entry => "注册即享", "On joining";
        Rate => "{x} 倍积分", "{x}× points";
        UpgradePoints => "升级礼 {n} 积分", "{n} points on reaching it";
        Discount => "{n}折", "{pct}% off";
        FreeShipping => "包邮", "Free shipping";
        BirthdayMultiplier => "生日月 {x} 倍积分", "{x}× points in your birthday month";
        ExclusiveMall => "专享兑换", "Exclusive rewards";
        MemberDayPrice => "会员日专享价", "Member-day prices";
        YourGrowth => "当前成长值 {n}", "Growth now: {n}";
        ToNext => "再获得 {n} 成长值升级为{tier}", "{n} more growth to {tier}";
        TopTier => "已是最高等级", "You are at the top tier";
        KeepNeed => "保级{tier}：{date} 前再获得 {n} 成长值", "To keep {tier} until {date}, earn {n} more growth";
        KeepDone => "已保级{tier}至 {date}", "{tier} kept through {date}";
        WindowLifetime => "成长值长期有效。", "Growth never expires.";
        WindowRolling => "成长值按最近 {n} 个月计算。", "Growth counts over the last {n} months.";
        WindowYear => "成长值按自然年计算，每年 1 月 1 日重新累计。", "Growth counts per calendar year, from 1 January.";
        PolicyNever => "等级一经获得，长期有效。", "A tier, once reached, is yours to keep.";
        PolicyToEarned => "升级后每 {n} 个月评定一次，按期间所获成长值调整等级。", "Every {n} months from an upgrade, your tier is set by the growth earned in that time.";
        PolicyOneStep => "升级后每 {n} 个月评定一次，未达标最多降一级。", "Every {n} months from an upgrade, a tier not kept drops one step at most.";
        MemberDay => "会员日", "Member day";
        MemberDayRule => "{day}：{x} 倍积分", "{day}: {x}× points";
        MemberDayToday => "今天是会员日", "Today is member day";
        Weekday => "每周{d}", "Every {d}";
        MonthDay => "每月 {d} 日", "Day {d} of every month";
        MonthWeek => "每月第 {d} 周", "Week {d} of every month";
        Tasks => "赚成长值", "Earn growth";
        TaskProfile => "完善资料（姓名和生日）", "Complete your profile (name and birthday)";
        TaskFirstPurchase => "首次消费", "Your first purchase";
        TaskCheckIn => "每日签到", "Daily check-in";
        TaskGrowth => "+{n} 成长值", "+{n} growth";
        Done => "已完成", "Done";
        CheckIn => "签到", "Check in";
        CheckedIn => "今日已签到", "Checked in today";
        CheckInOk => "签到成功 +{n} 成长值", "Checked in: +{n} growth";
        GrowthLink => "成长值明细", "Growth history";
        KindPurchase => "消费", "Purchase";
        KindRefund => "退货", "Refund";
        KindTask => "任务", "Task";
        KindDecay => "长期未消费扣减", "Inactivity decay";
        KindAdjust => "调整", "Adjustment";
        KindImport => "导入", "Import";
        CountsUntil => "计入至 {date}", "Counts until {date}";
        GrowthEmpty => "还没有成长值记录，消费即可获得成长值", "No growth yet: every purchase earns some";
        More => "加载更多", "Load more";
        InboxEmpty => "暂无消息", "No messages";
        MsgUpgraded => "恭喜升级为{tier}", "Congratulations: you are now {tier}";
        MsgWarning => "{tier}将于 {date} 到期，再获得 {n} 成长值即可保级", "{tier} ends on {date}: earn {n} more growth to keep it";
        MsgDowngraded => "会员等级调整为{tier}", "Your tier is now {tier}";
        MsgKept => "已保级{tier}至 {date}", "{tier} kept through {date}";
        MsgMemberDay => "今天是会员日，消费享 {x} 倍积分", "It's member day: {x}× points on every purchase";
        MsgOther => "会员消息", "Member message";
        Unread => "未读", "Unread";
    }
}

/// "1.5" from 150 (percent), trimmed.
pub fn times(pct: i64) -> String {
    let whole = pct / 100;
    let frac = (pct % 100).abs();
    match frac {
        0 => whole.to_string(),
        f if f % 10 == 0 => format!("{whole}.{}", f / 10),
        f => format!("{whole}.{f:02}"),
    }
}

/// 95折 for 5 % off in Chinese, "5% off" in English.
pub fn discount(lang: Lang, percent_off: i64) -> String {
    let pay = 100 - percent_off;
    let zh = if pay % 10 == 0 {
        (pay / 10).to_string()
    } else {
        pay.to_string()
    };
    fill(
        T::Discount.text(lang),
        &[("n", &zh), ("pct", &percent_off.to_string())],
    )
}

/// Monday = 1 … Sunday = 7.
pub fn weekday(lang: Lang, d: i64) -> &'static str {
    let zh = ["一", "二", "三", "四", "五", "六", "日"];
    let en = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    let i = usize::try_from(d - 1).unwrap_or(0).min(6);
    lang.pick(zh[i], en[i])
}

use super::Text;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_both_languages() {
        for k in T::ALL {
            assert!(!k.text(Lang::ZhCn).is_empty(), "{k:?}");
            assert!(!k.text(Lang::En).is_empty(), "{k:?}");
        }
    }

    #[test]
    fn numbers_read_naturally() {
        assert_eq!(times(150), "1.5");
        assert_eq!(times(200), "2");
        assert_eq!(times(125), "1.25");
        assert_eq!(discount(Lang::ZhCn, 5), "95折");
        assert_eq!(discount(Lang::ZhCn, 10), "9折");
        assert_eq!(discount(Lang::En, 10), "10% off");
    }
}

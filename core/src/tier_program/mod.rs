//! The tier program's rules: which version applies when, what a purchase earns (tier
//! rate, member day, birthday month), upgrades at once, evaluation at the end of a
//! period (keep, drop to what was earned, or one step down), what keeping the tier still
//! takes, the growth window, decay and growth tasks.
//!
//! Times are unix seconds; calendar rules use the program's local days (`crate::civil`).
//! A period runs from an upgrade (or the previous period's end) for `period_months`
//! local months: upgraded on 2026-07-01 → evaluated at the start of 2027-07-01, so the
//! tier is kept "until 2027-06-30".

mod earn;
mod period;
mod program;
mod standing;
mod tasks;
mod validate;

pub use earn::*;
pub use period::*;
pub use program::*;
pub use standing::*;
pub use tasks::*;
pub use validate::*;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::civil::{self, Date};
    use crate::coupons::Birthday;
    use crate::dto::{TierDef, TierProgram};
    use crate::money::Cents;

    #[test]
    fn a_period_begun_by_an_upgrade_reads_as_one() {
        assert!(upgraded_this_period(Some(("upgraded", 100)), 101));
        assert!(!upgraded_this_period(Some(("upgraded", 100)), 5000));
        assert!(!upgraded_this_period(Some(("kept", 5000)), 4999));
        assert!(!upgraded_this_period(None, 101));
    }
    use crate::dto::{DowngradeRules, GrowthRules, MemberDayRule, TierBenefit};
    use proptest::prelude::*;

    fn tier(code: &str, th: i64, rate: i64) -> TierDef {
        TierDef {
            code: code.into(),
            name: code.to_uppercase(),
            color: String::new(),
            icon: String::new(),
            growth_threshold: th,
            spend_threshold_cents: None,
            points_per_yuan_pct: rate,
            benefits: Vec::new(),
            upgrade_points: 0,
        }
    }

    fn program(policy: &str) -> TierProgram {
        let mut gold = tier("gold", 2000, 150);
        gold.benefits.push(TierBenefit {
            kind: "birthday_multiplier".into(),
            value: 200,
            text: String::new(),
        });
        gold.upgrade_points = 300;
        let mut silver = tier("silver", 500, 120);
        silver.spend_threshold_cents = Some(40_000);
        silver.upgrade_points = 100;
        TierProgram {
            tiers: vec![
                tier("normal", 0, 100),
                silver,
                gold,
                tier("diamond", 8000, 200),
            ],
            growth: GrowthRules {
                decay_after_days: 30,
                decay_per_day: 5,
                ..GrowthRules::default()
            },
            downgrade: DowngradeRules {
                policy: policy.into(),
                period_months: 12,
                warn_days: 30,
            },
            member_day: Some(MemberDayRule {
                day: "monthday:18".into(),
                points_multiplier_pct: 200,
                growth_multiplier_pct: 150,
            }),
        }
    }

    fn at(y: i64, m: u32, d: u32, hour: i64) -> i64 {
        civil::local_midnight(Date {
            year: y,
            month: m,
            day: d,
        }) + hour * 3600
    }

    fn cents(v: i64) -> Cents {
        Cents::paid(v).unwrap()
    }

    #[test]
    fn validates_the_dev_shapes() {
        for policy in ["never", "to_earned", "one_step"] {
            validate(&program(policy)).unwrap();
        }
        let mut p = program("to_earned");
        p.tiers[2].growth_threshold = 500;
        assert!(validate(&p)
            .unwrap_err()
            .0
            .contains("tiers[2].growth_threshold"));
        let mut p = program("to_earned");
        p.tiers[0].growth_threshold = 1;
        assert!(validate(&p).is_err());
        let mut p = program("sometimes");
        assert!(validate(&p).is_err());
        p = program("never");
        p.growth.window = "rolling_months".into();
        assert!(validate(&p).is_err());
        p.growth.window_months = 12;
        validate(&p).unwrap();
        p.tiers[1].code = "Silver".into();
        assert!(validate(&p).is_err());
    }

    #[test]
    fn successors_keep_codes_and_order() {
        let old = program("never");
        let mut new = program("one_step");
        new.tiers[2].growth_threshold = 2500;
        validate_successor(&old, &new).unwrap();
        new.tiers.insert(2, tier("platinum", 1000, 130));
        validate_successor(&old, &new).unwrap();
        let mut swapped = program("never");
        swapped.tiers.swap(1, 2);
        assert!(validate_successor(&old, &swapped).is_err());
        let mut fewer = program("never");
        fewer.tiers.pop();
        assert!(validate_successor(&old, &fewer).is_err());
    }

    #[test]
    fn member_day_and_birthday_month_multiply() {
        let p = program("never");
        let plain = earn(&p, 2, cents(10_000), at(2026, 5, 17, 12), None);
        assert_eq!((plain.points, plain.growth), (150, 100));
        let md = earn(&p, 2, cents(10_000), at(2026, 5, 18, 12), None);
        assert_eq!((md.points, md.growth, md.member_day), (300, 150, true));
        let bd = Birthday::new(5, 2);
        let both = earn(&p, 2, cents(10_000), at(2026, 5, 18, 12), bd);
        assert_eq!((both.points, both.birthday_month), (600, true));
        // Silver has no birthday benefit.
        let silver = earn(&p, 1, cents(10_000), at(2026, 5, 1, 12), bd);
        assert_eq!((silver.points, silver.birthday_month), (120, false));
        let week = MemberDays::parse("week:3").unwrap();
        assert!(week.is_on(Date {
            year: 2026,
            month: 2,
            day: 15
        }));
        assert!(!week.is_on(Date {
            year: 2026,
            month: 2,
            day: 22
        }));
    }

    #[test]
    fn upgrades_pass_every_tier_and_sum_their_points() {
        let p = program("never");
        let u = upgrade(
            &p,
            0,
            Standing {
                growth: 2100,
                spend_cents: 0,
            },
        )
        .unwrap();
        assert_eq!(
            (u.to, u.passed.clone(), u.upgrade_points),
            (2, vec![1, 2], 400)
        );
        // The spend alternative reaches silver alone.
        let u = upgrade(
            &p,
            0,
            Standing {
                growth: 10,
                spend_cents: 40_000,
            },
        )
        .unwrap();
        assert_eq!(u.to, 1);
        assert!(upgrade(
            &p,
            2,
            Standing {
                growth: 2100,
                spend_cents: 0
            }
        )
        .is_none());
    }

    #[test]
    fn periods_and_keep_dates() {
        let start = at(2026, 7, 1, 15);
        let end = period_end(start, 12);
        assert_eq!(end, at(2027, 7, 1, 0));
        assert_eq!(civil::iso(last_day(end)), "2027-06-30");
        assert_eq!(period_end(at(2026, 1, 31, 9), 1), at(2026, 2, 28, 0));
        let p = program("to_earned");
        let k = keep(
            &p,
            2,
            Standing {
                growth: 1680,
                spend_cents: 0,
            },
            Some(end),
        )
        .unwrap();
        assert_eq!(
            (k.growth_needed, civil::iso(k.until)),
            (320, "2027-06-30".into())
        );
        assert!(keep(&p, 0, Standing::default(), Some(end)).is_none());
        assert!(keep(&program("never"), 2, Standing::default(), Some(end)).is_none());
        assert!(warning_due(&p, end, end - 30 * civil::DAY_SECS));
        assert!(!warning_due(&p, end, end - 31 * civil::DAY_SECS));
        assert!(!warning_due(&p, end, end));
    }

    #[test]
    fn evaluation_policies() {
        let s = |g| Standing {
            growth: g,
            spend_cents: 0,
        };
        let p = program("to_earned");
        assert_eq!(evaluate(&p, 3, s(600)), (1, Verdict::Downgraded));
        assert_eq!(evaluate(&p, 2, s(2000)), (2, Verdict::Kept));
        assert_eq!(evaluate(&p, 1, s(2500)), (2, Verdict::Raised));
        let p = program("one_step");
        assert_eq!(evaluate(&p, 3, s(0)), (2, Verdict::Downgraded));
        assert_eq!(evaluate(&p, 1, s(0)), (0, Verdict::Downgraded));
        let p = program("never");
        assert_eq!(evaluate(&p, 3, s(0)), (3, Verdict::Kept));
    }

    #[test]
    fn windows() {
        let e = at(2026, 1, 15, 20);
        assert_eq!(counts_until(Window::Lifetime, e), None);
        assert_eq!(
            counts_until(Window::RollingMonths(12), e),
            Some(at(2027, 1, 15, 0))
        );
        assert_eq!(
            counts_until(Window::CalendarYear, e),
            Some(at(2027, 1, 1, 0))
        );
    }

    #[test]
    fn decay_counts_idle_days_once() {
        let p = program("never");
        let active = at(2026, 3, 1, 10);
        assert_eq!(decay(&p, 100, active, None, at(2026, 3, 31, 23)), None);
        let (amount, through) = decay(&p, 100, active, None, at(2026, 4, 2, 1)).unwrap();
        assert_eq!(amount, 10); // 1 and 2 April
        assert_eq!(
            decay(&p, 90, active, Some(through), at(2026, 4, 2, 22)),
            None
        );
        let (a2, _) = decay(&p, 90, active, Some(through), at(2026, 4, 3, 1)).unwrap();
        assert_eq!(a2, 5);
        let (all, _) = decay(&p, 7, active, None, at(2027, 1, 1, 1)).unwrap();
        assert_eq!(all, 7);
    }

    proptest! {
        #[test]
        fn upgrade_never_skipped(cur in 0usize..4, g in 0i64..20_000, spend in 0i64..100_000) {
            let p = program("to_earned");
            let s = Standing { growth: g, spend_cents: spend };
            let target = reached(&p, s);
            match upgrade(&p, cur, s) {
                Some(u) => {
                    prop_assert_eq!(u.to, target);
                    prop_assert!(u.to > cur);
                    prop_assert_eq!(u.passed.len(), u.to - cur);
                }
                None => prop_assert!(target <= cur),
            }
        }

        #[test]
        fn downgrade_never_below_earned(
            cur in 0usize..4, g in 0i64..20_000, spend in 0i64..100_000,
            policy in prop::sample::select(vec!["never", "to_earned", "one_step"]),
        ) {
            let p = program(policy);
            let s = Standing { growth: g, spend_cents: spend };
            let (to, verdict) = evaluate(&p, cur, s);
            prop_assert!(to >= reached(&p, s));
            prop_assert!(to <= cur.max(reached(&p, s)));
            if policy == "one_step" { prop_assert!(to + 1 >= cur); }
            if policy == "never" { prop_assert!(to >= cur); }
            prop_assert_eq!(verdict == Verdict::Downgraded, to < cur);
        }

        #[test]
        fn keep_agrees_with_evaluate(cur in 1usize..4, g in 0i64..20_000) {
            let p = program("to_earned");
            let s = Standing { growth: g, spend_cents: 0 };
            let k = keep(&p, cur, s, Some(at(2027, 7, 1, 0))).unwrap();
            let (to, _) = evaluate(&p, cur, s);
            prop_assert_eq!(k.growth_needed == 0, to >= cur);
            if k.growth_needed > 0 {
                let more = Standing { growth: g + k.growth_needed, spend_cents: 0 };
                prop_assert!(evaluate(&p, cur, more).0 >= cur);
                let less = Standing { growth: g + k.growth_needed - 1, spend_cents: 0 };
                prop_assert!(evaluate(&p, cur, less).0 < cur);
            }
        }

        #[test]
        fn decay_is_never_negative_nor_more_than_growth(
            growth in 0i64..10_000, idle in 0i64..2_000, through_back in 0i64..100,
        ) {
            let p = program("never");
            let active = at(2026, 1, 1, 12);
            let now = active + idle * civil::DAY_SECS;
            let today = (now + civil::TZ_OFFSET_SECS).div_euclid(civil::DAY_SECS);
            if let Some((amount, through)) = decay(&p, growth, active, Some(today - through_back), now) {
                prop_assert!(amount > 0 && amount <= growth);
                prop_assert!(amount <= through_back * p.growth.decay_per_day);
                prop_assert_eq!(through, today);
                prop_assert!(decay(&p, growth - amount, active, Some(through), now).is_none());
            }
        }

        #[test]
        fn a_new_version_changes_nothing_before_its_start(
            starts in prop::collection::vec(0i64..1_000, 1..6), new_start in 0i64..1_000, t in 0i64..1_000,
        ) {
            let mut versions: Vec<(i64, i64, u8)> =
                starts.iter().enumerate().map(|(i, s)| (i as i64, *s, 0)).collect();
            let before = in_effect(&versions, t).map(|v| (v.0, v.1));
            versions.push((versions.len() as i64, new_start, 1));
            let after = in_effect(&versions, t).map(|v| (v.0, v.1));
            if t < new_start {
                prop_assert_eq!(before, after);
            } else if before.is_none_or(|(_, s)| new_start >= s) {
                prop_assert_eq!(after, Some((versions.len() as i64 - 1, new_start)));
            } else {
                // A later-starting version already in effect stays in effect.
                prop_assert_eq!(before, after);
            }
        }

        #[test]
        fn events_count_for_the_whole_window(day in 0i64..20_000, hour in 0i64..24, n in 1u32..36) {
            let e = day * civil::DAY_SECS + hour * 3600;
            let until = counts_until(Window::RollingMonths(n), e).unwrap();
            prop_assert!(until > e);
            // At least n*28 days, at most n*31 + 1.
            prop_assert!(until - e >= i64::from(n) * 28 * civil::DAY_SECS - civil::DAY_SECS);
            prop_assert!(until - e <= (i64::from(n) * 31 + 1) * civil::DAY_SECS);
            let y = counts_until(Window::CalendarYear, e).unwrap();
            prop_assert_eq!(civil::local_date(y).day, 1);
            prop_assert_eq!(civil::local_date(y).month, 1);
        }

        #[test]
        fn the_tills_rates_give_what_earn_gives(paid in 0i64..10_000_000, tier in 0usize..4, day in 1u32..29, bmonth in 1u32..13) {
            let p = program("never");
            let at = at(2026, 5, day, 12);
            let bd = Birthday::new(bmonth, 1);
            let e = earn(&p, tier, cents(paid), at, bd);
            let r = earn_rates(&p, tier, at, bd);
            prop_assert_eq!(e.points, points_at(paid, p.tiers[tier].points_per_yuan_pct, &r.points_multiplier_pcts));
            prop_assert_eq!(e.growth, growth_at(paid, r.growth_per_yuan, r.growth_multiplier_pct));
        }

        #[test]
        fn points_never_beat_the_rates(paid in 0i64..10_000_000, tier in 0usize..4, day in 1u32..29) {
            let p = program("never");
            let e = earn(&p, tier, cents(paid), at(2026, 5, day, 12), Birthday::new(5, 1));
            let max = paid * p.tiers[tier].points_per_yuan_pct * 4 / 10_000;
            prop_assert!(e.points >= 0 && e.points <= max);
            prop_assert!(e.growth >= 0 && e.growth <= paid / 100 * 3 / 2);
        }
    }
}

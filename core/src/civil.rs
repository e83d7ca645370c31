//! Calendar dates in the program's time zone, without a date library (the browser app
//! ships this code, and a fixed offset is all China needs: no daylight saving).
//!
//! Day numbers count days since 1970-01-01 in the proleptic Gregorian calendar; the
//! conversion is the classic era-based one (400-year eras of 146,097 days).

/// The program's time zone: Asia/Shanghai, UTC+8 all year.
pub const TZ_OFFSET_SECS: i64 = 8 * 3600;
pub const DAY_SECS: i64 = 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i64,
    /// 1..=12
    pub month: u32,
    /// 1..=31
    pub day: u32,
}

/// Days since 1970-01-01 for a calendar date (month and day must be in range).
pub fn days_from_date(d: Date) -> i64 {
    let m = i64::from(d.month);
    let y = if m <= 2 { d.year - 1 } else { d.year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let shifted_month = (m + 9) % 12; // March = 0
    let day_of_year = (153 * shifted_month + 2) / 5 + i64::from(d.day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The calendar date of a day number.
pub fn date_from_days(days: i64) -> Date {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    Date {
        year,
        month: u32::try_from(month).unwrap_or(1),
        day: u32::try_from(day).unwrap_or(1),
    }
}

/// The local calendar date at a unix time.
pub fn local_date(unix: i64) -> Date {
    date_from_days((unix + TZ_OFFSET_SECS).div_euclid(DAY_SECS))
}

/// The unix time of local midnight starting `date`.
pub fn local_midnight(date: Date) -> i64 {
    days_from_date(date) * DAY_SECS - TZ_OFFSET_SECS
}

/// The first day of the month `months` after the month of `date` (negative goes back).
pub fn first_of_month_after(date: Date, months: i64) -> Date {
    let index = date.year * 12 + i64::from(date.month) - 1 + months;
    Date {
        year: index.div_euclid(12),
        month: u32::try_from(index.rem_euclid(12) + 1).unwrap_or(1),
        day: 1,
    }
}

/// `YYYY-MM-DD`
pub fn iso(date: Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year, date.month, date.day)
}

pub fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Monday = 1 … Sunday = 7.
pub fn weekday(date: Date) -> u32 {
    // 1970-01-01 was a Thursday (4).
    u32::try_from((days_from_date(date) + 3).rem_euclid(7) + 1).unwrap_or(1)
}

pub fn days_in_month(year: i64, month: u32) -> u32 {
    let first = Date {
        year,
        month,
        day: 1,
    };
    let next = first_of_month_after(first, 1);
    u32::try_from(days_from_date(next) - days_from_date(first)).unwrap_or(28)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_dates() {
        let epoch = Date {
            year: 1970,
            month: 1,
            day: 1,
        };
        assert_eq!(days_from_date(epoch), 0);
        assert_eq!(
            date_from_days(19_723),
            Date {
                year: 2024,
                month: 1,
                day: 1
            }
        );
        // 2024 is a leap year.
        assert_eq!(
            date_from_days(
                days_from_date(Date {
                    year: 2024,
                    month: 2,
                    day: 28
                }) + 1
            ),
            Date {
                year: 2024,
                month: 2,
                day: 29
            }
        );
    }

    #[test]
    fn local_date_uses_shanghai_time() {
        // 2026-12-31T16:00:00Z is midnight of 2027-01-01 in Shanghai.
        let t = 1_798_732_800;
        assert_eq!(iso(local_date(t - 1)), "2026-12-31");
        assert_eq!(iso(local_date(t)), "2027-01-01");
        assert_eq!(local_midnight(local_date(t)), t);
    }

    #[test]
    fn month_arithmetic_crosses_years() {
        let d = Date {
            year: 2026,
            month: 11,
            day: 23,
        };
        assert_eq!(iso(first_of_month_after(d, 2)), "2027-01-01");
        assert_eq!(iso(first_of_month_after(d, -11)), "2025-12-01");
        assert_eq!(iso(first_of_month_after(d, 0)), "2026-11-01");
    }

    proptest! {
        #[test]
        fn days_round_trip(days in -1_000_000i64..1_000_000) {
            let d = date_from_days(days);
            prop_assert!((1..=12).contains(&d.month));
            prop_assert!((1..=31).contains(&d.day));
            prop_assert_eq!(days_from_date(d), days);
        }

        #[test]
        fn next_day_is_next_date(days in -100_000i64..100_000) {
            let a = date_from_days(days);
            let b = date_from_days(days + 1);
            prop_assert!(b > a);
        }
    }
}

//! Money is integer fen (CNY cents). A purchase amount is parsed once at the edge.

/// The largest single purchase we accept: 1,000,000 yuan. Bounds every multiplication
/// in the earning rules far away from overflow.
pub const MAX_PURCHASE_CENTS: i64 = 100_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cents(i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountError {
    NotPositive,
    TooLarge,
}

impl Cents {
    /// A purchase amount: more than zero, at most [`MAX_PURCHASE_CENTS`].
    pub fn purchase(value: i64) -> Result<Self, AmountError> {
        if value <= 0 {
            Err(AmountError::NotPositive)
        } else if value > MAX_PURCHASE_CENTS {
            Err(AmountError::TooLarge)
        } else {
            Ok(Self(value))
        }
    }

    /// What is left to pay after discounts: zero allowed (a coupon may cover it all).
    pub fn paid(value: i64) -> Result<Self, AmountError> {
        if value < 0 {
            Err(AmountError::NotPositive)
        } else if value > MAX_PURCHASE_CENTS {
            Err(AmountError::TooLarge)
        } else {
            Ok(Self(value))
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }

    /// Parses what a cashier types in yuan: `88`, `88.5`, `88.50`, `¥1,288.00`.
    pub fn parse_yuan(input: &str) -> Result<Self, AmountError> {
        let s: String = input
            .trim()
            .trim_start_matches(['¥', '￥'])
            .chars()
            .filter(|c| *c != ',' && *c != ' ')
            .collect();
        let (whole, frac) = match s.split_once('.') {
            Some((w, f)) => (w, f),
            None => (s.as_str(), ""),
        };
        if whole.is_empty() && frac.is_empty()
            || frac.len() > 2
            || !whole.chars().all(|c| c.is_ascii_digit())
            || !frac.chars().all(|c| c.is_ascii_digit())
            || whole.len() > 9
        {
            return Err(AmountError::NotPositive);
        }
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| AmountError::TooLarge)?
        };
        let frac: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().map_err(|_| AmountError::NotPositive)? * 10,
            _ => frac.parse().map_err(|_| AmountError::NotPositive)?,
        };
        Self::purchase(whole * 100 + frac)
    }

    /// `¥88.50`
    pub fn to_yuan_string(self) -> String {
        format!("¥{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bounds() {
        assert_eq!(Cents::purchase(0), Err(AmountError::NotPositive));
        assert_eq!(Cents::purchase(-5), Err(AmountError::NotPositive));
        assert_eq!(
            Cents::purchase(MAX_PURCHASE_CENTS + 1),
            Err(AmountError::TooLarge)
        );
        assert_eq!(Cents::purchase(1).map(Cents::get), Ok(1));
    }

    #[test]
    fn parses_yuan() {
        assert_eq!(Cents::parse_yuan("88").map(Cents::get), Ok(8800));
        assert_eq!(Cents::parse_yuan("88.5").map(Cents::get), Ok(8850));
        assert_eq!(Cents::parse_yuan("¥1,288.05").map(Cents::get), Ok(128_805));
        assert!(Cents::parse_yuan("1.234").is_err());
        assert!(Cents::parse_yuan("-3").is_err());
        assert!(Cents::parse_yuan("").is_err());
        assert!(Cents::parse_yuan("abc").is_err());
    }

    proptest! {
        #[test]
        fn yuan_string_round_trips(c in 1i64..=MAX_PURCHASE_CENTS) {
            let cents = Cents::purchase(c).unwrap();
            prop_assert_eq!(Cents::parse_yuan(&cents.to_yuan_string()), Ok(cents));
        }
    }
}

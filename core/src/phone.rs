//! Phone numbers: parsed once at the edge into E.164, China mobile by default.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Phone(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneError {
    Empty,
    /// Not a mainland China mobile number (11 digits starting with 1[3-9]).
    NotMobile,
}

impl Phone {
    /// Accepts `13812345678`, `138 1234 5678`, `138-1234-5678`, `+86 138…`, `0086138…`,
    /// `86138…`; stores `+8613812345678`.
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(PhoneError::Empty);
        }
        let plus = trimmed.starts_with('+');
        let digits: String = trimmed
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '+'))
            .collect();
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(PhoneError::NotMobile);
        }
        let national = if let Some(rest) = digits.strip_prefix("0086") {
            rest
        } else if digits.len() == 13 && digits.starts_with("86") {
            &digits[2..]
        } else if plus {
            // Another country code: not supported yet.
            return Err(PhoneError::NotMobile);
        } else {
            &digits
        };
        let b = national.as_bytes();
        if b.len() != 11 || b[0] != b'1' || !(b'3'..=b'9').contains(&b[1]) {
            return Err(PhoneError::NotMobile);
        }
        Ok(Self(format!("+86{national}")))
    }

    /// The E.164 form, e.g. `+8613812345678`.
    pub fn as_e164(&self) -> &str {
        &self.0
    }

    /// What staff see: `138****5678`.
    pub fn masked(&self) -> String {
        let national = &self.0[3..];
        format!("{}****{}", &national[..3], &national[7..])
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a cashier types to find a member who can't show a card: a full mobile number
/// (any spelling `Phone::parse` takes) or the 10-digit member number. Nothing shorter:
/// a partial number would let a till browse the member list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberQuery {
    Phone(Phone),
    MemberNo(String),
}

impl MemberQuery {
    pub fn parse(input: &str) -> Option<Self> {
        let digits: String = input
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .collect();
        if digits.len() == crate::card_code::MEMBER_NO_DIGITS
            && digits.chars().all(|c| c.is_ascii_digit())
        {
            return Some(Self::MemberNo(digits));
        }
        Phone::parse(input).ok().map(Self::Phone)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_common_spellings() {
        for s in [
            "13812345678",
            " 138 1234 5678 ",
            "138-1234-5678",
            "+86 138 1234 5678",
            "008613812345678",
            "8613812345678",
        ] {
            assert_eq!(Phone::parse(s).unwrap().as_e164(), "+8613812345678", "{s}");
        }
    }

    #[test]
    fn rejects_non_mobile() {
        assert_eq!(Phone::parse(""), Err(PhoneError::Empty));
        for s in [
            "12812345678",
            "1381234567",
            "138123456789",
            "abc",
            "+1 415 555 0100",
            "02112345678",
        ] {
            assert_eq!(Phone::parse(s), Err(PhoneError::NotMobile), "{s}");
        }
    }

    #[test]
    fn masks_the_middle() {
        assert_eq!(Phone::parse("13812345678").unwrap().masked(), "138****5678");
    }

    #[test]
    fn member_query_is_a_full_phone_or_member_number() {
        assert_eq!(
            MemberQuery::parse(" 138 1234 5678 "),
            Some(MemberQuery::Phone(Phone::parse("13812345678").unwrap()))
        );
        assert_eq!(
            MemberQuery::parse("1234-567890"),
            Some(MemberQuery::MemberNo("1234567890".into()))
        );
        for s in [
            "",
            "5678",
            "138****5678",
            "1381234567a",
            "12345678901234567",
        ] {
            assert_eq!(MemberQuery::parse(s), None, "{s}");
        }
    }

    proptest! {
        #[test]
        fn any_valid_mobile_round_trips(second in 3u8..=9, rest in "[0-9]{9}") {
            let s = format!("1{second}{rest}");
            let p = Phone::parse(&s).unwrap();
            prop_assert_eq!(p.as_e164(), format!("+86{s}"));
            prop_assert_eq!(Phone::parse(p.as_e164()).unwrap(), p);
        }

        #[test]
        fn never_panics(s in ".{0,40}") {
            let _ = Phone::parse(&s);
        }
    }
}

//! Sign-up rules: what a brand asks for at sign-up, the channels a QR code can stand
//! for, the shape of signed link tokens and referral codes, and the parsing of the
//! optional profile fields (birthday, gender, city).
//!
//! The HMAC itself is the server's (it holds the key); here is only the token's form,
//! so a malformed token is refused before any database work.

use crate::civil::{self, Date};

/// Whether the sign-up form shows a field, and whether it must be filled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ask {
    #[default]
    Off,
    Optional,
    Required,
}

impl Ask {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "off" => Some(Self::Off),
            "optional" => Some(Self::Optional),
            "required" => Some(Self::Required),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Optional => "optional",
            Self::Required => "required",
        }
    }
}

/// Channels a sign-up code stands for; `staff` is a cashier's personal code and
/// `import` marks members brought over from an old CRM (never a QR code).
pub const CHANNELS: [&str; 7] = [
    "poster",
    "table_tent",
    "packaging",
    "event",
    "online_ad",
    "staff",
    "receipt",
];

/// A brand's own channel name is allowed too: 1–32 of `a-z 0-9 _ -`.
pub fn valid_channel(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s != "import"
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Hex characters of HMAC-SHA256 kept in a link token: 80 bits, checked online only
/// (and the look-up is rate limited like every public route), short enough for a QR
/// code that prints small.
pub const LINK_MAC_HEX: usize = 20;

/// A sign-up link token: `<id>-<mac>` (e.g. `42-9f3c…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkToken {
    pub id: i64,
    pub mac: String,
}

impl LinkToken {
    pub fn parse(s: &str) -> Option<Self> {
        let (id, mac) = s.trim().split_once('-')?;
        if id.is_empty() || id.len() > 18 || !id.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let id: i64 = id.parse().ok().filter(|&i| i > 0)?;
        let mac_ok = mac.len() == LINK_MAC_HEX
            && mac
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        mac_ok.then(|| Self {
            id,
            mac: mac.to_string(),
        })
    }

    pub fn format(id: i64, mac_hex: &str) -> String {
        let end = mac_hex.len().min(LINK_MAC_HEX);
        format!("{id}-{}", &mac_hex[..end])
    }

    /// What the HMAC covers: every attribution field, so none can be altered.
    pub fn signed_text(
        id: i64,
        store_id: i64,
        channel: &str,
        staff_id: Option<i64>,
        campaign_id: Option<i64>,
        expires_at: Option<i64>,
    ) -> String {
        format!(
            "signup-link:{id}:{store_id}:{channel}:{}:{}:{}",
            staff_id.map_or(String::new(), |s| s.to_string()),
            campaign_id.map_or(String::new(), |c| c.to_string()),
            expires_at.map_or(String::new(), |e| e.to_string()),
        )
    }
}

/// Referral codes: 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L),
/// so a code read out over the counter or typed by hand comes out right.
pub const REFERRAL_ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
pub const REFERRAL_LEN: usize = 8;

pub fn referral_code_from_random(mut random: u64) -> String {
    let base = REFERRAL_ALPHABET.len() as u64;
    (0..REFERRAL_LEN)
        .map(|_| {
            let i = usize::try_from(random % base).unwrap_or(0);
            random /= base;
            char::from(REFERRAL_ALPHABET[i])
        })
        .collect()
}

/// Upper-cases and checks a typed or scanned referral code.
pub fn normalize_referral_code(s: &str) -> Option<String> {
    let code = s.trim().to_ascii_uppercase();
    (code.len() == REFERRAL_LEN && code.bytes().all(|b| REFERRAL_ALPHABET.contains(&b)))
        .then_some(code)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    Female,
    Male,
    Other,
}

impl Gender {
    /// `female`/`male`/`other`, or the Chinese 女/男/其他 an imported file may hold.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "female" | "f" | "女" => Some(Self::Female),
            "male" | "m" | "男" => Some(Self::Male),
            "other" | "其他" => Some(Self::Other),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Female => "female",
            Self::Male => "male",
            Self::Other => "other",
        }
    }
}

/// The oldest birth year accepted (anything earlier is a typo).
pub const MIN_BIRTH_YEAR: i64 = 1900;

/// A birthday as `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYY.MM.DD` or `YYYYMMDD`: a real day, not
/// after `today`, not before 1900.
pub fn parse_birthday(s: &str, today: Date) -> Option<Date> {
    let date = parse_date(s)?;
    (date.year >= MIN_BIRTH_YEAR && date <= today).then_some(date)
}

/// A calendar date in the forms `parse_birthday` takes (no range check but validity).
pub fn parse_date(s: &str) -> Option<Date> {
    let s = s.trim();
    let parts: Vec<&str> = if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        vec![&s[..4], &s[4..6], &s[6..]]
    } else {
        s.split(['-', '/', '.']).collect()
    };
    let [y, m, d] = parts.as_slice() else {
        return None;
    };
    let digits = |p: &str, max_len: usize| {
        !p.is_empty() && p.len() <= max_len && p.bytes().all(|b| b.is_ascii_digit())
    };
    if y.len() != 4 || !digits(y, 4) || !digits(m, 2) || !digits(d, 2) {
        return None;
    }
    let date = Date {
        year: y.parse().ok()?,
        month: m.parse().ok()?,
        day: d.parse().ok()?,
    };
    valid_date(date).then_some(date)
}

/// A real calendar day (month in 1..=12, day within the month).
pub fn valid_date(d: Date) -> bool {
    (1..=12).contains(&d.month)
        && d.day >= 1
        && d.day <= crate::civil::days_in_month(d.year, d.month)
}

/// A date or a local date-time (`YYYY-MM-DD HH:MM[:SS]`, `T` allowed) as unix seconds
/// in the program's time zone.
pub fn parse_local_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, time) = match s.split_once([' ', 'T']) {
        Some((d, t)) => (d, Some(t.trim())),
        None => (s, None),
    };
    let date = parse_date(date)?;
    let mut secs = 0;
    if let Some(t) = time {
        let parts: Vec<&str> = t.split(':').collect();
        if !(2..=3).contains(&parts.len()) {
            return None;
        }
        let mut units = [0i64; 3];
        for (i, p) in parts.iter().enumerate() {
            if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            units[i] = p.parse().ok()?;
        }
        if units[0] > 23 || units[1] > 59 || units[2] > 59 {
            return None;
        }
        secs = units[0] * 3600 + units[1] * 60 + units[2];
    }
    Some(civil::local_midnight(date) + secs)
}

/// A city as typed: trimmed, 1–40 characters, no control characters.
pub fn clean_text(s: &str, max_chars: usize) -> Option<String> {
    let t = s.trim();
    (!t.is_empty() && t.chars().count() <= max_chars && !t.chars().any(char::is_control))
        .then(|| t.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;

    fn d(year: i64, month: u32, day: u32) -> Date {
        Date { year, month, day }
    }

    #[test]
    fn link_tokens_round_trip_and_refuse_junk() {
        let mac = "0123456789abcdef0123456789abcdef";
        let t = LinkToken::format(42, mac);
        assert_eq!(t, "42-0123456789abcdef0123");
        assert_eq!(
            LinkToken::parse(&t),
            Some(LinkToken {
                id: 42,
                mac: "0123456789abcdef0123".into()
            })
        );
        for bad in [
            "",
            "42",
            "-0123456789abcdef0123",
            "0-0123456789abcdef0123",
            "x-0123456789abcdef0123",
            "42-0123456789ABCDEF0123",
            "42-0123456789abcdef012",
            "42-0123456789abcdef01234",
            "99999999999999999999-0123456789abcdef0123",
        ] {
            assert_eq!(LinkToken::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn signed_text_covers_every_field() {
        let base = LinkToken::signed_text(1, 2, "poster", Some(3), Some(4), Some(5));
        for other in [
            LinkToken::signed_text(9, 2, "poster", Some(3), Some(4), Some(5)),
            LinkToken::signed_text(1, 9, "poster", Some(3), Some(4), Some(5)),
            LinkToken::signed_text(1, 2, "event", Some(3), Some(4), Some(5)),
            LinkToken::signed_text(1, 2, "poster", None, Some(4), Some(5)),
            LinkToken::signed_text(1, 2, "poster", Some(3), None, Some(5)),
            LinkToken::signed_text(1, 2, "poster", Some(3), Some(4), None),
        ] {
            assert_ne!(base, other);
        }
    }

    #[test]
    fn channels() {
        for c in CHANNELS {
            assert!(valid_channel(c), "{c}");
        }
        assert!(valid_channel("wechat-moments"));
        for bad in ["", "Poster", "import", "a b", &"x".repeat(33)] {
            assert!(!valid_channel(bad), "{bad}");
        }
    }

    #[test]
    fn dates_in_the_forms_people_type() {
        let today = d(2026, 12, 6);
        for s in [
            "1990-03-07",
            "1990/3/7",
            "1990.03.07",
            "19900307",
            " 1990-3-07 ",
        ] {
            assert_eq!(parse_birthday(s, today), Some(d(1990, 3, 7)), "{s}");
        }
        for s in [
            "1990-02-30",
            "1990-13-01",
            "2027-01-01",
            "1899-12-31",
            "90-03-07",
            "1990-03",
            "abc",
            "",
            "1990-03-07-01",
        ] {
            assert_eq!(parse_birthday(s, today), None, "{s}");
        }
        assert_eq!(parse_birthday("2024-02-29", today), Some(d(2024, 2, 29)));
        assert_eq!(parse_birthday("2023-02-29", today), None);
    }

    #[test]
    fn local_datetimes() {
        let midnight = civil::local_midnight(d(2020, 5, 1));
        assert_eq!(parse_local_datetime("2020-05-01"), Some(midnight));
        assert_eq!(
            parse_local_datetime("2020-05-01 08:30"),
            Some(midnight + 8 * 3600 + 1800)
        );
        assert_eq!(
            parse_local_datetime("2020-05-01T23:59:59"),
            Some(midnight + 86_399)
        );
        for bad in ["2020-05-01 24:00", "2020-05-01 8", "2020-05-01 08:60", "x"] {
            assert_eq!(parse_local_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn genders() {
        assert_eq!(Gender::parse("女"), Some(Gender::Female));
        assert_eq!(Gender::parse("Male"), Some(Gender::Male));
        assert_eq!(Gender::parse("x"), None);
    }

    proptest! {
        #[test]
        fn referral_codes_are_well_formed(r in any::<u64>()) {
            let code = referral_code_from_random(r);
            prop_assert_eq!(normalize_referral_code(&code.to_ascii_lowercase()), Some(code));
        }

        #[test]
        fn every_valid_date_parses_back(days in -25_000i64..25_000) {
            let date = civil::date_from_days(days);
            prop_assert_eq!(parse_date(&civil::iso(date)), Some(date));
        }

        #[test]
        fn parsers_never_panic(s in ".{0,30}") {
            let _ = LinkToken::parse(&s);
            let _ = parse_local_datetime(&s);
            let _ = normalize_referral_code(&s);
        }
    }
}

//! The dynamic member code shown as QR on the e-card.
//!
//! `code = member_no (10 digits) + TOTP (6 digits)`: 16 digits a keyboard-wedge scanner
//! types and a person can read out. The TOTP is RFC 6238 style with HMAC-SHA256 and a
//! 30 s step over a per-card random 32-byte key that both the server and the member's
//! device hold, so the card still shows a valid code offline.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const STEP_SECS: i64 = 30;
pub const TOTP_DIGITS: usize = 6;
pub const MEMBER_NO_DIGITS: usize = 10;
pub const CODE_DIGITS: usize = MEMBER_NO_DIGITS + TOTP_DIGITS;
pub const KEY_BYTES: usize = 32;
/// How far back an old code is recognised as "expired" rather than "invalid", so the
/// cashier gets a useful message ("ask the member to refresh") for a stale screenshot.
const EXPIRED_LOOKBACK_STEPS: i64 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardCodeError {
    /// Not 16 digits (after removing spaces and dashes).
    Malformed,
    /// The digits do not match this card's key around now.
    Invalid,
    /// It matched an older step: a screenshot or a code left on screen too long.
    Expired,
    /// It matched, but a purchase already used this step (or a later one).
    Replayed,
}

/// A card's secret key.
#[derive(Clone, PartialEq, Eq)]
pub struct CardKey([u8; KEY_BYTES]);

impl CardKey {
    pub fn from_bytes(bytes: [u8; KEY_BYTES]) -> Self {
        Self(bytes)
    }

    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; KEY_BYTES]>::try_from(bytes).ok().map(Self)
    }

    pub fn as_bytes(&self) -> &[u8; KEY_BYTES] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn from_hex(s: &str) -> Option<Self> {
        if s.len() != KEY_BYTES * 2 || !s.is_ascii() {
            return None;
        }
        let mut out = [0u8; KEY_BYTES];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[i * 2..i * 2 + 2], 16).ok()?;
        }
        Some(Self(out))
    }
}

// Keys never show up in logs or debug output.
impl std::fmt::Debug for CardKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CardKey(..)")
    }
}

/// The time step a unix time falls in.
pub fn step_at(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// Seconds until the code shown at `unix_secs` changes (1..=30).
pub fn secs_left_in_step(unix_secs: i64) -> i64 {
    STEP_SECS - unix_secs.rem_euclid(STEP_SECS)
}

/// The unix time at which `step` ends (when its code stops being the current one).
pub fn step_end(step: i64) -> i64 {
    (step + 1) * STEP_SECS
}

/// HMAC-SHA256 TOTP for one step, with RFC 4226 dynamic truncation to 6 digits.
pub fn totp(key: &CardKey, step: i64) -> u32 {
    // A 32-byte key is always a valid HMAC key, so this cannot fail; fall back to an
    // impossible value rather than panicking in a pure function.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
        return u32::MAX;
    };
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let bin = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    bin % 1_000_000
}

/// The full 16-digit code for a member at a given time.
pub fn code_at(member_no: &str, key: &CardKey, unix_secs: i64) -> String {
    format!("{member_no}{:06}", totp(key, step_at(unix_secs)))
}

/// Groups a 16-digit code for reading aloud: `8600 0123 45 · 123 456`.
pub fn display_code(code: &str) -> String {
    if code.len() != CODE_DIGITS || !code.is_ascii() {
        return code.to_string();
    }
    format!(
        "{} {} {} · {} {}",
        &code[0..4],
        &code[4..8],
        &code[8..10],
        &code[10..13],
        &code[13..16]
    )
}

/// A scanned or typed code, split into member number and TOTP digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCode {
    pub member_no: String,
    pub totp: u32,
}

/// Accepts what a scanner or a person types: digits with optional spaces, dashes or dots.
pub fn parse_code(input: &str) -> Result<ParsedCode, CardCodeError> {
    let digits: String = input
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '·' | '.' | '\t'))
        .collect();
    if digits.len() != CODE_DIGITS || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(CardCodeError::Malformed);
    }
    let totp = digits[MEMBER_NO_DIGITS..]
        .parse::<u32>()
        .map_err(|_| CardCodeError::Malformed)?;
    Ok(ParsedCode {
        member_no: digits[..MEMBER_NO_DIGITS].to_string(),
        totp,
    })
}

/// Checks a code's TOTP against the card key at `now_unix`.
///
/// Accepts the current step and one step either side (clock drift between phone and
/// server). `last_used_step` is the newest step a purchase already consumed for this
/// card: that step and older ones are refused, so one code buys once. Returns the
/// matched step, which the caller stores as the new `last_used_step` when it spends it.
pub fn verify_totp(
    key: &CardKey,
    code_totp: u32,
    now_unix: i64,
    last_used_step: Option<i64>,
) -> Result<i64, CardCodeError> {
    let now = step_at(now_unix);
    // Newest first, so a phone running slightly fast is not refused as a replay of an
    // older matching step.
    let matched = [now + 1, now, now - 1]
        .into_iter()
        .find(|&s| totp(key, s) == code_totp);
    match matched {
        Some(step) if last_used_step.is_some_and(|used| step <= used) => {
            Err(CardCodeError::Replayed)
        }
        Some(step) => Ok(step),
        None => {
            let old = (2..=EXPIRED_LOOKBACK_STEPS).any(|back| totp(key, now - back) == code_totp);
            Err(if old {
                CardCodeError::Expired
            } else {
                CardCodeError::Invalid
            })
        }
    }
}

/// Is this a well-formed member number (10 digits, not starting with 0)?
pub fn is_member_no(s: &str) -> bool {
    s.len() == MEMBER_NO_DIGITS && s.chars().all(|c| c.is_ascii_digit()) && !s.starts_with('0')
}

/// Builds a member number from random bytes supplied by the caller: 9 random digits
/// (first one 1-9) plus a Luhn check digit, so a mistyped number is caught early.
pub fn member_no_from_random(random: u64) -> String {
    let first = 1 + random % 9;
    let rest = (random / 9) % 100_000_000;
    let body = format!("{first}{rest:08}");
    format!("{body}{}", luhn_check_digit(&body))
}

/// Luhn check digit for a string of ASCII digits.
pub fn luhn_check_digit(body: &str) -> u32 {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b.wrapping_sub(b'0'));
            if i % 2 == 0 {
                let dd = d * 2;
                if dd > 9 {
                    dd - 9
                } else {
                    dd
                }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

/// Does a 10-digit member number carry a valid Luhn check digit?
pub fn member_no_checksum_ok(member_no: &str) -> bool {
    is_member_no(member_no)
        && luhn_check_digit(&member_no[..MEMBER_NO_DIGITS - 1])
            == u32::from(member_no.as_bytes()[MEMBER_NO_DIGITS - 1] - b'0')
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;

    fn key(seed: u8) -> CardKey {
        CardKey::from_bytes([seed; KEY_BYTES])
    }

    #[test]
    fn totp_is_six_digits_and_changes_per_step() {
        let k = key(7);
        let a = totp(&k, 1000);
        let b = totp(&k, 1001);
        assert!(a < 1_000_000 && b < 1_000_000);
        assert_ne!(a, b);
        assert_eq!(totp(&k, 1000), a, "deterministic");
    }

    #[test]
    fn code_round_trips_through_parse_and_display() {
        let k = key(3);
        let no = member_no_from_random(123_456_789);
        let code = code_at(&no, &k, 1_700_000_000);
        assert_eq!(code.len(), CODE_DIGITS);
        let shown = display_code(&code);
        let parsed = parse_code(&shown).unwrap();
        assert_eq!(parsed.member_no, no);
        assert_eq!(format!("{}{:06}", parsed.member_no, parsed.totp), code);
    }

    #[test]
    fn malformed_codes_are_rejected() {
        for bad in ["", "123", "12345678901234567", "abcdefghijklmnop", "１２３"] {
            assert_eq!(parse_code(bad), Err(CardCodeError::Malformed), "{bad}");
        }
    }

    #[test]
    fn key_hex_round_trip_and_debug_hides_it() {
        let k = key(0xab);
        assert_eq!(CardKey::from_hex(&k.to_hex()), Some(k.clone()));
        assert_eq!(CardKey::from_hex("zz"), None);
        assert_eq!(format!("{k:?}"), "CardKey(..)");
    }

    #[test]
    fn member_numbers_carry_a_check_digit() {
        for r in [0u64, 1, 42, u64::MAX, 987_654_321_012] {
            let no = member_no_from_random(r);
            assert!(is_member_no(&no), "{no}");
            assert!(member_no_checksum_ok(&no), "{no}");
        }
        assert!(!member_no_checksum_ok("1234567890") || luhn_check_digit("123456789") == 0);
    }

    proptest! {
        #[test]
        fn accepts_current_and_adjacent_steps(seed in any::<u8>(), now in 1_000_000_000i64..4_000_000_000, shift in -1i64..=1) {
            let k = key(seed);
            let shown_at = now + shift * STEP_SECS;
            let t = totp(&k, step_at(shown_at));
            let step = verify_totp(&k, t, now, None).unwrap();
            // A coincidental match with a neighbouring step is allowed only if it is the
            // same digits; the matched step's code must equal what was shown.
            prop_assert_eq!(totp(&k, step), t);
        }

        #[test]
        fn rejects_codes_two_or_more_steps_away(seed in any::<u8>(), now in 1_000_000_000i64..4_000_000_000, away in 2i64..200) {
            let k = key(seed);
            let now_step = step_at(now);
            let t_old = totp(&k, now_step - away);
            let t_new = totp(&k, now_step + away);
            let collides = |t: u32| [now_step - 1, now_step, now_step + 1].iter().any(|&s| totp(&k, s) == t);
            if !collides(t_old) {
                prop_assert!(verify_totp(&k, t_old, now, None).is_err());
                if away <= EXPIRED_LOOKBACK_STEPS {
                    prop_assert_eq!(verify_totp(&k, t_old, now, None), Err(CardCodeError::Expired));
                }
            }
            if !collides(t_new) {
                prop_assert!(verify_totp(&k, t_new, now, None).is_err());
            }
        }

        #[test]
        fn a_spent_step_cannot_be_replayed(seed in any::<u8>(), now in 1_000_000_000i64..4_000_000_000) {
            let k = key(seed);
            let t = totp(&k, step_at(now));
            let step = verify_totp(&k, t, now, None).unwrap();
            prop_assert_eq!(verify_totp(&k, t, now, Some(step)), Err(CardCodeError::Replayed));
            prop_assert_eq!(verify_totp(&k, t, now + 10, Some(step)), Err(CardCodeError::Replayed));
            // The next step's code is still good after a purchase.
            let next = totp(&k, step + 1);
            prop_assert_eq!(verify_totp(&k, next, (step + 1) * STEP_SECS, Some(step)), Ok(step + 1));
        }

        #[test]
        fn another_members_key_does_not_verify(a in any::<u8>(), b in any::<u8>(), now in 1_000_000_000i64..4_000_000_000) {
            prop_assume!(a != b);
            let (ka, kb) = (key(a), key(b));
            let t = totp(&ka, step_at(now));
            let collides = [-1i64, 0, 1].iter().any(|d| totp(&kb, step_at(now) + d) == t);
            prop_assume!(!collides);
            prop_assert!(verify_totp(&kb, t, now, None).is_err());
        }

        #[test]
        fn parse_accepts_any_spacing(code in "[1-9][0-9]{15}") {
            let spaced: String = code.chars().enumerate().flat_map(|(i, c)| {
                if i % 4 == 3 { vec![c, ' '] } else { vec![c] }
            }).collect();
            let parsed = parse_code(&spaced).unwrap();
            prop_assert_eq!(format!("{}{:06}", parsed.member_no, parsed.totp), code);
        }

        #[test]
        fn secs_left_is_within_a_step(t in any::<i32>()) {
            let left = secs_left_in_step(i64::from(t));
            prop_assert!((1..=STEP_SECS).contains(&left));
            prop_assert_eq!(step_at(i64::from(t) + left), step_at(i64::from(t)) + 1);
        }
    }
}

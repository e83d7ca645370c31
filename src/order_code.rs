//! A points-mall order code as a screen parameter: `Copy`, so the mall's and the staff
//! app's screens (`nav::Screens`) can carry one.

use member_core::mall::{normalize_order_code, ORDER_CODE_LEN};

/// A code `member_core::mall::normalize_order_code` accepted: upper-case ASCII only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderCode([u8; ORDER_CODE_LEN]);

impl OrderCode {
    /// From a scanned or typed value (any case, spaces and dashes allowed).
    pub fn parse(input: &str) -> Option<Self> {
        let code = normalize_order_code(input)?;
        code.as_bytes().try_into().ok().map(Self)
    }

    pub fn as_str(&self) -> &str {
        // Always ASCII: `parse` only keeps what normalize_order_code accepted.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_a_person_types() {
        let code = OrderCode::parse("abcde-fghjk");
        assert_eq!(
            code.map(|c| c.as_str().to_string()),
            Some("ABCDEFGHJK".into())
        );
        assert_eq!(OrderCode::parse("ABCDE FGHJO"), None);
        assert_eq!(OrderCode::parse("8600012345123456"), None);
    }
}

//! Coupons as a member holds them (the wallet).

use serde::{Deserialize, Serialize};

use super::codes;

wire! {
    /// What a coupon gives. `kind`: `amount` (`amount_off_cents`), `percent`
    /// (`percent_off`: 10 = 9折, optional `cap_cents`), `gift` (`gift_name`).
    pub struct CouponBenefit {
        pub kind: String,
        #[serde(default)]
        pub amount_off_cents: i64,
        #[serde(default)]
        pub percent_off: i64,
        #[serde(default)]
        pub cap_cents: Option<i64>,
        #[serde(default)]
        pub gift_name: Option<String>,
    }

    /// A coupon in the member's wallet (GET /api/v1/me/coupons[/{id}]) and at the till.
    pub struct CouponView {
        pub id: i64,
        /// 10 characters (the order codes' alphabet): shown as text and QR.
        pub code: String,
        pub template_id: i64,
        pub name: String,
        pub description: String,
        pub benefit: CouponBenefit,
        pub min_spend_cents: i64,
        pub stackable: bool,
        /// Store codes where it may be used; empty = every store.
        pub store_codes: Vec<String>,
        /// The names of those stores, same order.
        pub store_names: Vec<String>,
        /// RFC 3339; with `valid_from_ts` / `expires_ts` (unix seconds) for the rules.
        pub valid_from: String,
        pub expires_at: String,
        pub valid_from_ts: i64,
        pub expires_ts: i64,
        /// `usable`, `upcoming` (not valid yet), `used`, `expired`, `void`
        pub status: String,
        /// Why it was issued: `signup`, `upgrade`, `birthday`, `member_day`, `winback`,
        /// `manual`, `claim`, `mall`
        pub source: String,
        pub issued_at: String,
        pub used_at: Option<String>,
        pub used_store_name: Option<String>,
        /// What it took off when used.
        pub discount_cents: Option<i64>,
        /// Not yet seen in the wallet (the "新" badge).
        pub new: bool,
    }

    /// GET /api/v1/me/coupons/summary: the wallet tabs' counts.
    pub struct CouponCounts {
        pub usable: i64,
        pub used: i64,
        pub expired: i64,
        pub new: i64,
        /// Usable coupons that expire within `coupons::EXPIRING_SOON_DAYS` local days.
        pub expiring_soon: i64,
    }
}

impl CouponBenefit {
    /// The rule form, or `None` when the fields don't make a valid benefit.
    pub fn to_benefit(&self) -> Option<crate::coupons::Benefit> {
        use crate::coupons::{Benefit, MAX_PERCENT_OFF};
        match self.kind.as_str() {
            "amount" if self.amount_off_cents > 0 => Some(Benefit::AmountOff {
                off_cents: self.amount_off_cents,
            }),
            "percent"
                if (1..=MAX_PERCENT_OFF).contains(&self.percent_off)
                    && self.cap_cents.is_none_or(|c| c > 0) =>
            {
                Some(Benefit::PercentOff {
                    percent_off: self.percent_off,
                    cap_cents: self.cap_cents,
                })
            }
            "gift" => self
                .gift_name
                .as_ref()
                .filter(|g| !g.trim().is_empty())
                .map(|g| Benefit::Gift { item: g.clone() }),
            _ => None,
        }
    }

    pub fn from_benefit(b: &crate::coupons::Benefit) -> Self {
        use crate::coupons::Benefit;
        let mut out = Self {
            kind: String::new(),
            amount_off_cents: 0,
            percent_off: 0,
            cap_cents: None,
            gift_name: None,
        };
        match b {
            Benefit::AmountOff { off_cents } => {
                out.kind = "amount".into();
                out.amount_off_cents = *off_cents;
            }
            Benefit::PercentOff {
                percent_off,
                cap_cents,
            } => {
                out.kind = "percent".into();
                out.percent_off = *percent_off;
                out.cap_cents = *cap_cents;
            }
            Benefit::Gift { item } => {
                out.kind = "gift".into();
                out.gift_name = Some(item.clone());
            }
        }
        out
    }
}

impl CouponView {
    /// The coupon as the rules see it (the app previews checkout with this).
    pub fn to_held(&self) -> Option<crate::coupons::Held> {
        Some(crate::coupons::Held {
            id: self.id,
            template_id: self.template_id,
            terms: crate::coupons::Terms {
                benefit: self.benefit.to_benefit()?,
                min_spend_cents: self.min_spend_cents,
                stackable: self.stackable,
                store_codes: self.store_codes.clone(),
            },
            valid_from: self.valid_from_ts,
            expires_at: self.expires_ts,
            unused: matches!(self.status.as_str(), "usable" | "upcoming" | "expired"),
        })
    }
}

impl crate::coupons::Refusal {
    /// The wire error code a purchase gets for this refusal.
    pub fn code(self) -> &'static str {
        use crate::coupons::Refusal;
        match self {
            Refusal::Used => codes::COUPON_USED,
            Refusal::Expired => codes::COUPON_EXPIRED,
            Refusal::NotYetValid => codes::COUPON_NOT_YET_VALID,
            Refusal::MinSpend { .. } => codes::COUPON_MIN_SPEND,
            Refusal::WrongStore => codes::COUPON_WRONG_STORE,
            Refusal::NotStackable => codes::COUPONS_NOT_STACKABLE,
            Refusal::Duplicate | Refusal::TooMany => codes::COUPON_DUPLICATE,
        }
    }
}

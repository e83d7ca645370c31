//! Points mall rules: whether a member may redeem an item (the app greys items out with
//! it, the server explains a refusal with it; the server's conditional updates stay the
//! final word on stock, limits and balance), what a redemption changes, and the order code
//! shown for pickup.

use crate::points::{self, Batch, Debit};

/// What the rules need to know about an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemTerms {
    pub points_price: i64,
    pub stock: i64,
    pub per_member_limit: Option<i64>,
    /// Index of the lowest tier allowed (in threshold order), if restricted.
    pub min_tier_rank: Option<usize>,
    pub available_from: Option<i64>,
    pub available_until: Option<i64>,
    pub hidden: bool,
}

/// What the rules need to know about the member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Redeemer {
    pub points: i64,
    pub tier_rank: usize,
    /// Units of this item already redeemed (cancelled orders not counted).
    pub already: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    InvalidQuantity,
    /// Hidden, not yet on sale or no longer on sale.
    Unavailable,
    TierLocked,
    LimitReached,
    OutOfStock,
    InsufficientPoints,
}

/// At most this many units in one order.
pub const MAX_QUANTITY: i64 = 99;

/// Points for `quantity` units, `None` on overflow.
pub fn price(item: &ItemTerms, quantity: i64) -> Option<i64> {
    item.points_price.checked_mul(quantity)
}

/// Checks in the order a member would want to hear about them.
pub fn check(item: &ItemTerms, who: &Redeemer, quantity: i64, now: i64) -> Result<i64, Refusal> {
    if !(1..=MAX_QUANTITY).contains(&quantity) {
        return Err(Refusal::InvalidQuantity);
    }
    if item.hidden
        || item.available_from.is_some_and(|t| now < t)
        || item.available_until.is_some_and(|t| now >= t)
    {
        return Err(Refusal::Unavailable);
    }
    if item.min_tier_rank.is_some_and(|r| who.tier_rank < r) {
        return Err(Refusal::TierLocked);
    }
    if item
        .per_member_limit
        .is_some_and(|l| who.already + quantity > l)
    {
        return Err(Refusal::LimitReached);
    }
    if item.stock < quantity {
        return Err(Refusal::OutOfStock);
    }
    let cost = price(item, quantity).ok_or(Refusal::InsufficientPoints)?;
    if who.points < cost {
        return Err(Refusal::InsufficientPoints);
    }
    Ok(cost)
}

/// What redeeming changes: the points spent (taken from which batches, due ones expiring
/// first), the cash part and the balance after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedeemPlan {
    pub cost: i64,
    pub cash_cents: i64,
    pub debit: Debit,
    pub points_after: i64,
}

/// Decides a redemption from the item's terms and the member as the order's transaction
/// read them (`who.points` is ignored: the spendable points of `batches` count).
pub fn plan(
    item: &ItemTerms,
    cash_cents: i64,
    who: &Redeemer,
    batches: &[Batch],
    quantity: i64,
    now: i64,
) -> Result<RedeemPlan, Refusal> {
    let spendable = points::spendable(batches, now);
    let who = Redeemer {
        points: spendable,
        ..*who
    };
    let cost = check(item, &who, quantity, now)?;
    let cash_cents = cash_cents
        .checked_mul(quantity)
        .ok_or(Refusal::InvalidQuantity)?;
    let debit = points::debit(batches, cost, now, None).map_err(|_| Refusal::InsufficientPoints)?;
    Ok(RedeemPlan {
        cost,
        cash_cents,
        debit,
        points_after: spendable - cost,
    })
}

/// Order codes: 10 characters from 31 symbols without look-alikes (no 0/O, 1/I/L),
/// about 49 bits, so codes can't be guessed and read out well at the counter.
pub const ORDER_CODE_LEN: usize = 10;
const ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

fn symbol(i: u8) -> char {
    char::from(ALPHABET[usize::from(i) % ALPHABET.len()])
}

/// An order code from random bytes (one byte per character; the caller supplies
/// randomness, this crate has none).
pub fn order_code_from_random(bytes: &[u8; ORDER_CODE_LEN]) -> String {
    bytes.iter().map(|b| symbol(*b)).collect()
}

/// A typed or scanned order code in canonical form: upper case, spaces and dashes
/// dropped, look-alikes (O, I, L, 0, 1) rejected. `None` if it can't be an order code.
pub fn normalize_order_code(input: &str) -> Option<String> {
    let code: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let ok = code.len() == ORDER_CODE_LEN && code.bytes().all(|b| ALPHABET.contains(&b));
    ok.then_some(code)
}

/// `ABCDE FGHJK`: two groups of five for reading out.
pub fn format_order_code(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    chars
        .chunks(5)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;

    fn terms(price: i64, stock: i64) -> ItemTerms {
        ItemTerms {
            points_price: price,
            stock,
            per_member_limit: None,
            min_tier_rank: None,
            available_from: None,
            available_until: None,
            hidden: false,
        }
    }

    const AT: i64 = 1_780_000_000;

    #[test]
    fn a_redemption_spends_the_soonest_expiring_points_and_expires_due_ones() {
        let batches = [
            Batch {
                id: 1,
                remaining: 30,
                expires_at: Some(AT - 1),
            },
            Batch {
                id: 2,
                remaining: 50,
                expires_at: Some(AT + 100),
            },
            Batch {
                id: 3,
                remaining: 100,
                expires_at: None,
            },
        ];
        let who = Redeemer {
            points: 999,
            tier_rank: 0,
            already: 0,
        };
        let plan = plan(&terms(60, 5), 150, &who, &batches, 1, AT).unwrap();
        assert_eq!((plan.cost, plan.cash_cents), (60, 150));
        assert_eq!(plan.debit.takes, vec![(2, 50), (3, 10)]);
        assert_eq!(plan.debit.expired, 30);
        assert_eq!(plan.points_after, 90);
        // Due points never pay: 150 spendable, 30 due.
        assert_eq!(
            super::plan(&terms(160, 5), 0, &who, &batches, 1, AT),
            Err(Refusal::InsufficientPoints)
        );
    }

    proptest! {
        /// Whatever the batches, a plan takes exactly its cost from spendable batches,
        /// never more than a batch holds, and the balance after is never negative.
        #[test]
        fn redemptions_never_overspend(
            price in 1i64..500,
            quantity in 1i64..5,
            rows in prop::collection::vec((1i64..300, prop::option::of(-2i64..2)), 0..5),
        ) {
            let batches: Vec<Batch> = rows
                .iter()
                .enumerate()
                .map(|(i, (r, d))| Batch { id: i as i64 + 1, remaining: *r, expires_at: d.map(|d| AT + d * 86_400) })
                .collect();
            let who = Redeemer { points: 0, tier_rank: 0, already: 0 };
            let spendable = points::spendable(&batches, AT);
            match plan(&terms(price, 10), 0, &who, &batches, quantity, AT) {
                Ok(p) => {
                    prop_assert_eq!(p.debit.takes.iter().map(|t| t.1).sum::<i64>(), price * quantity);
                    prop_assert!(p.points_after >= 0);
                    for (id, take) in &p.debit.takes {
                        let b = batches.iter().find(|b| b.id == *id).unwrap();
                        prop_assert!(b.spendable(AT) && *take <= b.remaining);
                    }
                }
                Err(r) => {
                    prop_assert_eq!(r, Refusal::InsufficientPoints);
                    prop_assert!(spendable < price * quantity);
                }
            }
        }
    }

    fn item() -> ItemTerms {
        ItemTerms {
            points_price: 50,
            stock: 3,
            per_member_limit: Some(2),
            min_tier_rank: None,
            available_from: None,
            available_until: None,
            hidden: false,
        }
    }

    fn who(points: i64) -> Redeemer {
        Redeemer {
            points,
            tier_rank: 0,
            already: 0,
        }
    }

    #[test]
    fn refusals_in_order() {
        assert_eq!(check(&item(), &who(100), 2, 0), Ok(100));
        assert_eq!(
            check(&item(), &who(100), 0, 0),
            Err(Refusal::InvalidQuantity)
        );
        assert_eq!(check(&item(), &who(100), 3, 0), Err(Refusal::LimitReached));
        assert_eq!(
            check(&item(), &who(99), 2, 0),
            Err(Refusal::InsufficientPoints)
        );
        let mut locked = item();
        locked.min_tier_rank = Some(1);
        assert_eq!(check(&locked, &who(100), 1, 0), Err(Refusal::TierLocked));
        let mut later = item();
        later.available_from = Some(10);
        assert_eq!(check(&later, &who(100), 1, 5), Err(Refusal::Unavailable));
        assert_eq!(check(&later, &who(100), 1, 10), Ok(50));
        let mut ended = item();
        ended.available_until = Some(10);
        assert_eq!(check(&ended, &who(100), 1, 10), Err(Refusal::Unavailable));
        let mut empty = item();
        empty.stock = 0;
        assert_eq!(check(&empty, &who(100), 1, 0), Err(Refusal::OutOfStock));
        let mut bought = who(100);
        bought.already = 2;
        assert_eq!(check(&item(), &bought, 1, 0), Err(Refusal::LimitReached));
    }

    #[test]
    fn order_codes_normalize() {
        let code = order_code_from_random(&[0, 1, 2, 30, 31, 62, 255, 7, 8, 9]);
        assert_eq!(code.len(), ORDER_CODE_LEN);
        assert_eq!(normalize_order_code(&code), Some(code.clone()));
        let spaced = format_order_code(&code.to_lowercase());
        assert_eq!(normalize_order_code(&spaced), Some(code));
        assert_eq!(normalize_order_code("ABCDEFGHJO"), None);
        assert_eq!(normalize_order_code("ABC"), None);
        assert_eq!(normalize_order_code("6221234567890123"), None);
    }

    proptest! {
        #[test]
        fn generated_codes_always_valid(bytes in any::<[u8; 10]>()) {
            let code = order_code_from_random(&bytes);
            prop_assert_eq!(normalize_order_code(&code), Some(code));
        }

        #[test]
        fn accepted_orders_fit(points in 0i64..1000, stock in 0i64..10, q in -2i64..12, already in 0i64..4) {
            let mut it = item();
            it.stock = stock;
            let w = Redeemer { points, tier_rank: 0, already };
            if let Ok(cost) = check(&it, &w, q, 0) {
                prop_assert!(q >= 1 && q <= stock && cost <= points && already + q <= 2);
            }
        }
    }
}

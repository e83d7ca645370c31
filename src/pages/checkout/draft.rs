//! One purchase as the cashier entered it, and the request that records it: the same
//! draft again reuses its Idempotency-Key (a retry must not credit twice).

use member_core::dto::PurchaseRequest;

use crate::clock;

/// What the cashier entered for one purchase. A retry reuses the previous attempt (and so
/// its Idempotency-Key) only while this stays the same; any edit is a new purchase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Draft {
    pub(super) code: String,
    /// Instead of `code`: a member looked up by phone, with this session's look-up token.
    pub(super) looked_up: Option<(String, String)>,
    pub(super) amount_cents: i64,
    /// As typed; empty means "generate one".
    pub(super) order_ref: String,
    /// The coupons applied, sorted.
    pub(super) coupon_ids: Vec<i64>,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct Attempt {
    pub(super) draft: Draft,
    pub(super) body: PurchaseRequest,
    pub(super) idempotency_key: String,
}

/// The attempt to send: the pending one again if nothing changed (a retry after a network
/// error must not credit twice), else a fresh one with a new key (and order ref if none).
pub(super) fn attempt_for(
    pending: Option<&Attempt>,
    draft: Draft,
    fresh: impl FnOnce() -> (String, String),
) -> Attempt {
    if let Some(p) = pending.filter(|p| p.draft == draft) {
        return p.clone();
    }
    let (idempotency_key, generated_ref) = fresh();
    let order_ref = if draft.order_ref.is_empty() {
        generated_ref
    } else {
        draft.order_ref.clone()
    };
    Attempt {
        body: PurchaseRequest {
            code: draft.code.clone(),
            member_no: draft.looked_up.as_ref().map(|(no, _)| no.clone()),
            lookup_token: draft.looked_up.as_ref().map(|(_, t)| t.clone()),
            amount_cents: draft.amount_cents,
            order_ref,
            coupon_ids: (!draft.coupon_ids.is_empty()).then(|| draft.coupon_ids.clone()),
        },
        idempotency_key,
        draft,
    }
}

/// `POS-20250301120506-3fa9c1`: readable on a receipt, unique enough per store.
pub(super) fn generated_order_ref() -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(
        js_sys::Date::now() + 8.0 * 3600.0 * 1000.0,
    ));
    format!(
        "POS-{}{:02}{:02}{:02}{:02}{:02}-{}",
        d.get_utc_full_year(),
        d.get_utc_month() + 1,
        d.get_utc_date(),
        d.get_utc_hours(),
        d.get_utc_minutes(),
        d.get_utc_seconds(),
        clock::random_hex::<3>()
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn draft(amount: i64, order_ref: &str) -> Draft {
        Draft {
            code: "8600012345123456".into(),
            looked_up: None,
            amount_cents: amount,
            order_ref: order_ref.into(),
            coupon_ids: Vec::new(),
        }
    }

    #[test]
    fn a_retry_reuses_key_and_generated_ref() {
        let first = attempt_for(None, draft(8850, ""), || ("k1".into(), "POS-1".into()));
        assert_eq!(first.body.order_ref, "POS-1");
        let again = attempt_for(Some(&first), draft(8850, ""), || {
            ("k2".into(), "POS-2".into())
        });
        assert_eq!(again, first);
    }

    #[test]
    fn an_edit_is_a_new_purchase() {
        let first = attempt_for(None, draft(8850, ""), || ("k1".into(), "POS-1".into()));
        let edited = attempt_for(Some(&first), draft(9000, ""), || {
            ("k2".into(), "POS-2".into())
        });
        assert_eq!(edited.idempotency_key, "k2");
        assert_eq!(edited.body.amount_cents, 9000);
        let typed = attempt_for(Some(&first), draft(8850, "A-7"), || {
            ("k3".into(), "POS-3".into())
        });
        assert_eq!(typed.body.order_ref, "A-7");
        assert_eq!(typed.idempotency_key, "k3");
    }

    #[test]
    fn a_retry_with_other_coupons_is_a_new_purchase() {
        let first = attempt_for(None, draft(8850, ""), || ("k1".into(), "POS-1".into()));
        assert_eq!(first.body.coupon_ids, None);
        let mut with = draft(8850, "");
        with.coupon_ids = vec![7];
        let next = attempt_for(Some(&first), with, || ("k2".into(), "POS-2".into()));
        assert_eq!(next.idempotency_key, "k2");
        assert_eq!(next.body.coupon_ids, Some(vec![7]));
    }
}

//! One submission of a request that moves points or stock, kept across its retries.

/// What the person asked for (`draft`) and the Idempotency-Key that asks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt<D> {
    pub draft: D,
    pub idempotency_key: String,
}

/// The pending attempt again while the person still asks for the same thing (a retry
/// after no answer must not spend or return points twice), else a new one with a fresh key.
pub fn attempt_for<D: PartialEq>(
    pending: Option<Attempt<D>>,
    draft: D,
    fresh_key: impl FnOnce() -> String,
) -> Attempt<D> {
    match pending {
        Some(p) if p.draft == draft => p,
        _ => Attempt {
            draft,
            idempotency_key: fresh_key(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_draft_same_key_else_new() {
        let first = attempt_for(None, (7, 1), || "k1".into());
        let again = attempt_for(Some(first.clone()), (7, 1), || "k2".into());
        assert_eq!(again, first);
        let more = attempt_for(Some(first), (7, 2), || "k3".into());
        assert_eq!(more.idempotency_key, "k3");
    }
}

//! Defaults of fields a request may leave out.

pub fn one() -> i64 {
    1
}

/// Where a mall order is handed over when the item does not say.
pub fn store_delivery() -> String {
    "store".into()
}

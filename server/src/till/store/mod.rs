//! The SQL: loads, and writes what the rules decided.

pub mod checkout;
pub mod purchases;
pub mod refunds;

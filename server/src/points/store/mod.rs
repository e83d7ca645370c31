//! The SQL: loads, and writes what the rules decided.

pub mod adjust;
pub mod ledger;

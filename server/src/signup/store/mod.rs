//! The SQL: loads, and writes what the rules decided.

pub mod referrals;
pub mod signup_links;

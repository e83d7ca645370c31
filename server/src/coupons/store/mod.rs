//! The SQL: loads, and writes what the rules decided.

pub mod coupon_templates;
pub mod coupons;
pub mod wallet;

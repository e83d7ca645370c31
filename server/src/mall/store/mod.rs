//! The SQL: loads, and writes what the rules decided.

pub mod mall;
pub mod mall_orders;

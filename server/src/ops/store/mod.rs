//! The SQL: loads, and writes what the rules decided.

pub mod cleanup;
pub mod seed;

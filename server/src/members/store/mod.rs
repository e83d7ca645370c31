//! The SQL: loads, and writes what the rules decided.

pub mod members;
pub mod profile;

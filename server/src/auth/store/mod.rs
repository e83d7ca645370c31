//! The SQL: loads, and writes what the rules decided.

pub mod otp;
pub mod sessions;

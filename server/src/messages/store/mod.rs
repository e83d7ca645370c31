//! The SQL: loads, and writes what the rules decided.

pub mod notifications;
pub mod outbox;

//! The SQL: loads, and writes what the rules decided.

pub mod growth;
pub mod tasks;
pub mod tier_eval;
pub mod tier_moves;
pub mod tier_program;
pub mod tier_status;
pub mod tiers;

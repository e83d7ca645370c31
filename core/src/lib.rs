//! Member Center domain core: pure rules shared by the server (for the truth) and the
//! browser app (for previews). No I/O, no clock, no randomness: callers pass time and
//! random bytes in, so every rule here is deterministic and property-testable.

pub mod card_code;
pub mod civil;
pub mod coupons;
pub mod dto;
pub mod edge;
pub mod import;
pub mod mall;
pub mod money;
pub mod phone;
pub mod points;
pub mod purchase;
pub mod refund;
pub mod signup;
pub mod throttle;
pub mod tier_program;
pub mod tiers;

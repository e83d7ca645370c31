//! One file per screen.

pub mod card;
pub mod checkout;
pub mod history;
pub mod invite;
pub mod join;
pub mod login;
pub mod mall;
pub mod staff_login;
pub mod staff_order;
pub mod staff_refunds;
pub mod staff_signup;
pub mod staff_unlock;
pub mod tiers;
pub mod wallet;

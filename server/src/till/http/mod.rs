//! The routes: request checks, the call into the store, the answer.

pub mod card_check;
pub mod lookup;
pub mod preview;
pub mod purchase;
pub mod refunds;

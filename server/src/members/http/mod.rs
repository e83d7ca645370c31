//! The routes: request checks, the call into the store, the answer.

pub mod me;
pub mod profile;

//! The routes: request checks, the call into the store, the answer.

pub mod admin;
pub mod member;

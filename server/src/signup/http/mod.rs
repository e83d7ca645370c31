//! The routes: request checks, the call into the store, the answer.

pub mod qr;
pub mod signup;

//! The routes: request checks, the call into the store, the answer.

pub mod documents;
pub mod openapi;
pub mod ops;
pub mod static_files;

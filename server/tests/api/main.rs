//! API tests: every scenario runs against a real server on a random port, once on SQLite
//! and once on Postgres, with a fresh database each time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

mod auth;
mod authz;
mod concurrency;
mod hardening;
mod limits;
mod ops;
mod purchase;
mod staff;

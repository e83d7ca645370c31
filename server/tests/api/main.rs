//! API tests: every scenario runs against a real server on a random port, once on SQLite
//! and once on Postgres, with a fresh database each time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

mod adjust;
mod auth;
mod authz;
mod campaign_issue;
mod campaign_jobs;
mod campaigns;
mod checkout;
mod checkout_gifts;
mod claims;
mod concurrency;
mod coupon_concurrency;
mod coupon_templates;
mod edge;
mod expiry;
mod growth_tasks;
mod guessing;
mod hardening;
mod import;
mod ledger;
mod limits;
mod lookup;
mod mall;
mod mall_admin;
mod mall_concurrency;
mod mall_staff;
mod mall_vouchers;
mod ops;
mod part_refunds;
mod purchase;
mod referrals;
mod refund;
mod seed;
mod signup;
mod staff;
mod tier_history;
mod tier_job;
mod tier_year;
mod tiers;
mod wallet;
mod words;

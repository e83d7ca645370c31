//! The cashier's screen: scan (keyboard-wedge scanner = digits + Enter) or type the
//! member's code, check who it is, enter the amount, pick the member's coupons and record
//! the purchase. A scanned points-mall order code opens that order instead
//! (`staff_order`); a scanned coupon code of the member on screen ticks that coupon.
//!
//! The server lists the member's coupons (`/staff/checkout/preview`); what they take off
//! is worked out here with `member_core::coupons`, the rules the server applies when the
//! purchase is recorded, at the server's clock.

mod basket;
mod coupon_list;
mod draft;
mod page;
mod result;
mod rules;
mod totals;

pub use page::CheckoutPage;

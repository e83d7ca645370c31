//! Member Center web app: the member e-card bundle, the points-mall bundle and the staff
//! checkout bundle.
//!
//! The bins link this library; each only pulls in what its root component reaches, so
//! staff and mall screens never end up in the member bundle (which has a size budget).

pub mod api;
pub mod attempt;
pub mod clock;
pub mod components;
pub mod i18n;
pub mod json;
pub mod mall_app;
pub mod member_app;
pub mod nav;
pub mod order_code;
pub mod pages;
pub mod screens;
pub mod session;
pub mod staff_app;
pub mod storage;

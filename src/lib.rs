//! Member Center web app: the member e-card bundle and the staff checkout bundle.
//!
//! Both bins link this library; each only pulls in what its root component reaches, so
//! staff screens never end up in the member bundle (which has a size budget).

pub mod api;
pub mod clock;
pub mod components;
pub mod i18n;
pub mod json;
pub mod member_app;
pub mod nav;
pub mod pages;
pub mod session;
pub mod staff_app;
pub mod storage;

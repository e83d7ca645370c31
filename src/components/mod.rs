//! Small view pieces shared by the screens.

pub mod countdown;
pub mod error_text;
pub mod lang_toggle;
pub mod offline;
pub mod progress;
pub mod qr;
pub mod signup_form;
pub mod staff_bar;
pub mod tier_badge;

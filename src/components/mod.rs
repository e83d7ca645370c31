//! Small view pieces shared by the screens.

pub mod countdown;
pub mod error_text;
pub mod lang_toggle;
pub mod progress;
pub mod qr;
pub mod tier_badge;

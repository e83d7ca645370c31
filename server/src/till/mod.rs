//! The till: verify a card, preview and record a purchase, refund it, look a member up.

pub mod http;
pub mod store;

/// The routes of this feature.
pub fn routes() -> axum::Router<crate::state::AppState> {
    axum::Router::new()
        .merge(http::preview::routes())
        .merge(http::purchase::routes())
        .merge(http::refunds::routes())
        .merge(http::lookup::routes())
}

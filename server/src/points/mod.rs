//! The points account: ledger, batches and expiry, hand-made adjustments and the rules.

pub mod http;
pub mod jobs;
pub mod store;

/// The routes of this feature.
pub fn routes() -> axum::Router<crate::state::AppState> {
    axum::Router::new().merge(http::routes())
}

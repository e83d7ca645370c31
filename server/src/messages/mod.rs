//! Messages: the member's inbox and the (dev) outbox of texts.

pub mod http;
pub mod store;

/// The routes of this feature.
pub fn routes() -> axum::Router<crate::state::AppState> {
    axum::Router::new().merge(http::inbox::routes())
}

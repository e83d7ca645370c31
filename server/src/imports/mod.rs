//! Legacy member import: a CSV file checked, then imported as a job with progress.

pub mod http;
pub mod store;

/// The routes of this feature.
pub fn routes() -> axum::Router<crate::state::AppState> {
    axum::Router::new().merge(http::routes())
}

//! Staff accounts: sign-in with its back-off, the session, a manager lifting a wait.

pub mod http;
pub mod store;

/// The routes of this feature.
pub fn routes() -> axum::Router<crate::state::AppState> {
    axum::Router::new().merge(http::routes())
}

//! Signing in: the member's SMS code and session, the admin's password sign-in.

pub mod http;
pub mod store;

/// The routes of this feature.
pub fn routes() -> axum::Router<crate::state::AppState> {
    axum::Router::new()
        .merge(http::member::routes())
        .merge(http::admin::routes())
}

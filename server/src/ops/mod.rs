//! What runs the service: health, metrics, the OpenAPI document, the static app, the sign-up documents, clean-up and seed data.

pub mod http;
pub mod store;

/// The routes of this feature.
pub fn routes() -> axum::Router<crate::state::AppState> {
    axum::Router::new()
        .merge(http::ops::routes())
        .merge(http::documents::routes())
        .merge(http::openapi::routes())
}

//! The points mall: items, redemption, pickup at the counter, the brand's item editor.

pub mod http;
pub mod store;

/// The routes of this feature.
pub fn routes() -> axum::Router<crate::state::AppState> {
    axum::Router::new()
        .merge(http::member::routes())
        .merge(http::staff::routes())
        .merge(http::admin::routes())
}

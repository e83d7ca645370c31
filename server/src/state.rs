use std::sync::Arc;

use crate::clock::Clock;
use crate::db::Db;
use crate::metrics::Metrics;
use crate::secret::Secret;

/// What every handler can reach. Nothing in here is state that must survive a restart
/// or be shared between instances: that all lives in the database.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub secret: Arc<Secret>,
    pub clock: Clock,
    pub dev: bool,
    pub otp_sends_per_ip_hour: i64,
    pub metrics: Arc<Metrics>,
    /// Caps concurrent argon2 password checks (`crypto::PASSWORD_CHECKS_AT_ONCE`).
    pub password_checks: Arc<tokio::sync::Semaphore>,
    /// `Config::public_url` without a trailing slash.
    pub public_url: Option<Arc<str>>,
    /// Trusted proxies, the pages' CSP, the metrics token (`http::edge`).
    pub edge: Arc<crate::http::edge_config::Edge>,
}

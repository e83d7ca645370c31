//! Member Center server: axum over sqlx (SQLite by default, Postgres when asked).
//!
//! `start` is the whole server as a library call so the API tests, the browser tests and
//! the benches run exactly what the binary runs.

pub mod auth;
pub mod campaigns;
pub mod clock;
pub mod coupons;
pub mod crypto;
pub mod db;
pub mod http;
pub mod imports;
pub mod jobs;
pub mod mall;
pub mod members;
pub mod memory;
pub mod messages;
pub mod metrics;
pub mod ops;
pub mod points;
pub mod reports;
pub mod secret;
pub mod signup;
pub mod staff;
pub mod state;
pub mod tiers;
pub mod till;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use clock::Clock;
pub use state::AppState;

/// Everything `start` needs. `Default` is the binary's defaults (SQLite file in the
/// working directory, port 8080, `./dist`).
#[derive(Debug, Clone)]
pub struct Config {
    /// `sqlite://path?mode=rwc`, `sqlite://path` (created if missing) or `postgres://...`.
    pub database_url: String,
    /// `127.0.0.1:0` picks a free port; read it back from `RunningServer::addr`.
    pub bind: SocketAddr,
    pub static_dir: PathBuf,
    /// Seeds demo data and routes `GET /api/v1/dev/outbox`.
    pub dev: bool,
    /// HMAC key for sessions and OTPs; when `None` it is read from (or generated into)
    /// `data_dir/member-secret` on SQLite, and kept in the database (shared by every
    /// instance) on Postgres.
    pub member_secret: Option<String>,
    pub data_dir: PathBuf,
    /// Added to the system clock: lets tests and demos move time forward.
    pub clock_offset_secs: i64,
    /// Tests: time stands still at this instant (plus the offset) until moved.
    pub clock_frozen_at: Option<i64>,
    /// OTP sends allowed per client address per hour (default 200). Load tests that sign
    /// up thousands of members from one address raise it.
    pub otp_sends_per_ip_hour: i64,
    /// The site's address as customers reach it (`https://vip.brand.cn`): what printed
    /// sign-up QR codes encode. Unset: the address the request came to.
    pub public_url: Option<String>,
    /// Proxies (`TRUSTED_PROXIES`, e.g. the TLS proxy's address) whose `X-Forwarded-For`,
    /// `Forwarded` and `X-Forwarded-Proto` are believed. Empty: the peer is the client.
    pub trusted_proxies: Vec<member_core::edge::Cidr>,
    /// A second address that serves only `/metrics` (for Prometheus on a private network).
    pub metrics_bind: Option<SocketAddr>,
    /// Bearer token for `/metrics`; without it and without `metrics_bind` nobody gets it.
    pub metrics_token: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://member-center.db".into(),
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            static_dir: PathBuf::from("dist"),
            dev: false,
            member_secret: None,
            data_dir: PathBuf::from("."),
            clock_offset_secs: 0,
            clock_frozen_at: None,
            otp_sends_per_ip_hour: crate::auth::store::otp::PER_IP_PER_HOUR,
            public_url: None,
            trusted_proxies: Vec::new(),
            metrics_bind: None,
            metrics_token: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Database(#[from] db::DbError),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("secret: {0}")]
    Secret(#[from] secret::SecretError),
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A server running in the background of the current tokio runtime.
pub struct RunningServer {
    pub addr: SocketAddr,
    /// Where `/metrics` is served when `Config::metrics_bind` is set.
    pub metrics_addr: Option<SocketAddr>,
    state: AppState,
    stop: Option<oneshot::Sender<()>>,
    serve: Option<JoinHandle<()>>,
    metrics_serve: Option<JoinHandle<()>>,
    jobs: Option<JoinHandle<()>>,
}

impl RunningServer {
    /// `http://127.0.0.1:PORT`, handy for clients.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Shared state (database handle, clock) for tests that need to look behind the API.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Moves this server's clock (e.g. past an OTP's validity) without sleeping.
    pub fn set_clock_offset(&self, secs: i64) {
        self.state.clock.set_offset(secs);
    }

    pub fn advance_clock(&self, secs: i64) {
        self.state.clock.advance(secs);
    }

    /// Stops accepting, lets in-flight requests finish, stops the jobs, closes the pools.
    pub async fn shutdown(mut self) {
        self.stop_all().await;
    }

    /// Resolves when the server stopped on its own (it normally doesn't).
    pub async fn wait(mut self) {
        if let Some(serve) = self.serve.take() {
            let _ = serve.await;
        }
        self.stop_all().await;
    }

    async fn stop_all(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(serve) = self.serve.take() {
            let _ = serve.await;
        }
        if let Some(metrics) = self.metrics_serve.take() {
            metrics.abort();
            let _ = metrics.await;
        }
        if let Some(jobs) = self.jobs.take() {
            jobs.abort();
            let _ = jobs.await;
        }
        self.state.db.close().await;
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(jobs) = self.jobs.take() {
            jobs.abort();
        }
        if let Some(metrics) = self.metrics_serve.take() {
            metrics.abort();
        }
    }
}

/// Connects, migrates, seeds (dev) and binds; returns once the socket accepts connections.
pub async fn start(config: Config) -> Result<RunningServer, StartError> {
    let db = db::Db::connect(&config.database_url).await?;
    db.migrate().await?;
    // Without MEMBER_SECRET: SQLite keeps the generated key in a file next to it; Postgres
    // (possibly several instances) keeps it in the database so they all share it.
    let secret = match (&config.member_secret, db.backend()) {
        (None, db::Backend::Postgres) => {
            secret::load_or_create_shared(&db, &config.data_dir).await?
        }
        (given, _) => secret::load_or_create(given.as_deref(), &config.data_dir)?,
    };
    let clock = match config.clock_frozen_at {
        Some(at) => Clock::frozen(at),
        None => Clock::with_offset(0),
    };
    clock.set_offset(config.clock_offset_secs);
    if config.dev {
        crate::ops::store::seed::dev(&db, clock.now()).await?;
    } else {
        crate::ops::store::seed::default_tiers_if_empty(&db, clock.now()).await?;
    }
    let state = AppState {
        db,
        secret: Arc::new(secret),
        clock,
        dev: config.dev,
        otp_sends_per_ip_hour: config.otp_sends_per_ip_hour,
        metrics: Arc::new(metrics::Metrics::default()),
        password_checks: Arc::new(tokio::sync::Semaphore::new(crypto::PASSWORD_CHECKS_AT_ONCE)),
        public_url: config
            .public_url
            .as_deref()
            .map(|u| Arc::from(u.trim_end_matches('/'))),
        edge: Arc::new(http::edge_config::Edge::new(
            config.trusted_proxies.clone(),
            config.public_url.as_deref(),
            &config.static_dir,
            config.metrics_token.clone(),
            config.metrics_bind.is_some(),
        )),
    };
    let app = http::router(state.clone(), &config.static_dir);
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.bind,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.bind,
        source,
    })?;
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let serve = tokio::spawn(async move {
        let result = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stop_rx.await;
        })
        .await;
        if let Err(e) = result {
            tracing::error!(error = %e, "server stopped with an error");
        }
    });
    let (metrics_addr, metrics_serve) = match config.metrics_bind {
        Some(bind) => {
            let listener = tokio::net::TcpListener::bind(bind)
                .await
                .map_err(|source| StartError::Bind { addr: bind, source })?;
            let metrics_addr = listener
                .local_addr()
                .map_err(|source| StartError::Bind { addr: bind, source })?;
            let app = http::metrics_router(state.clone());
            let task = tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, app).await {
                    tracing::error!(error = %e, "metrics listener stopped with an error");
                }
            });
            tracing::info!(addr = %metrics_addr, "metrics listening");
            (Some(metrics_addr), Some(task))
        }
        None => (None, None),
    };
    let jobs = tokio::spawn(jobs::run(state.clone()));
    tracing::info!(%addr, dev = config.dev, "member center listening");
    Ok(RunningServer {
        addr,
        metrics_addr,
        state,
        stop: Some(stop_tx),
        serve: Some(serve),
        metrics_serve,
        jobs: Some(jobs),
    })
}

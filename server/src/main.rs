//! `member-server`: serve (default) or administer.

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use member_server::{db, Config};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "member-server",
    version,
    about = "Member Center server (会员中心)"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Seed demo data and route the dev SMS outbox.
    #[arg(long)]
    dev: bool,
    #[arg(long, env = "BIND", default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// `sqlite://file.db` (created if missing) or `postgres://...`.
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        default_value = "sqlite://member-center.db"
    )]
    database_url: String,
    /// The built web app.
    #[arg(long, env = "STATIC_DIR", default_value = "dist")]
    static_dir: PathBuf,
    /// Where the generated MEMBER_SECRET is kept when the variable is not set.
    #[arg(long, env = "DATA_DIR", default_value = ".")]
    data_dir: PathBuf,
    /// OTP sends allowed per client address per hour.
    #[arg(long, env = "OTP_SENDS_PER_IP_HOUR", default_value_t = member_server::auth::store::otp::PER_IP_PER_HOUR)]
    otp_sends_per_ip_hour: i64,
    /// The site's public address (`https://vip.brand.cn`), encoded in printed sign-up QR
    /// codes; unset: the address a request came to.
    #[arg(long, env = "PUBLIC_URL")]
    public_url: Option<String>,
    /// Proxies whose X-Forwarded-For / Forwarded / X-Forwarded-Proto are believed: comma-
    /// separated addresses or networks (`10.0.0.0/8,::1`). Unset: the peer is the client.
    #[arg(long, env = "TRUSTED_PROXIES", default_value = "")]
    trusted_proxies: String,
    /// A separate address (e.g. `10.0.0.5:9100`) that serves /metrics; the main address
    /// then does not.
    #[arg(long, env = "METRICS_BIND")]
    metrics_bind: Option<SocketAddr>,
    /// Bearer token for /metrics (`Authorization: Bearer …`); on the main address /metrics
    /// is served only with it.
    #[arg(long, env = "METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Staff account administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Imports members from a CSV file (UTF-8 or GBK; header
    /// phone,name,tier,points,birthday,store,joined_at, only phone required) into the
    /// configured database. Re-running skips members already there.
    Import {
        file: PathBuf,
        /// Check the file and print the report; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Creates an admin account (or resets its password). The password comes from
    /// ADMIN_PASSWORD or the first line of standard input, never from the command line.
    Create {
        #[arg(long)]
        username: String,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info")),
        )
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            None => serve(cli).await,
            Some(Command::Admin {
                command: AdminCommand::Create { username },
            }) => create_admin(&cli.database_url, &username).await,
            Some(Command::Import { ref file, dry_run }) => {
                import_file(&cli.database_url, file, dry_run).await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(cli: Cli) -> Result<(), String> {
    let config = Config {
        database_url: cli.database_url,
        bind: cli.bind,
        static_dir: cli.static_dir,
        dev: cli.dev,
        member_secret: std::env::var("MEMBER_SECRET")
            .ok()
            .filter(|s| !s.is_empty()),
        data_dir: cli.data_dir,
        clock_offset_secs: 0,
        clock_frozen_at: None,
        otp_sends_per_ip_hour: cli.otp_sends_per_ip_hour,
        public_url: cli.public_url,
        trusted_proxies: member_core::edge::parse_cidrs(&cli.trusted_proxies)
            .map_err(|e| format!("TRUSTED_PROXIES: {e}"))?,
        metrics_bind: cli.metrics_bind,
        metrics_token: cli.metrics_token,
    };
    let server = member_server::start(config)
        .await
        .map_err(|e| e.to_string())?;
    println!("member center listening on http://{}", server.addr);
    shutdown_signal().await;
    tracing::info!("shutting down");
    server.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

async fn create_admin(database_url: &str, username: &str) -> Result<(), String> {
    let username = username.trim();
    if username.is_empty() || username.len() > 64 {
        return Err("username must be 1–64 characters".into());
    }
    let password = match std::env::var("ADMIN_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            let mut input = String::new();
            std::io::stdin()
                .take(1024)
                .read_to_string(&mut input)
                .map_err(|e| format!("reading the password from stdin: {e}"))?;
            input.lines().next().unwrap_or_default().to_string()
        }
    };
    if password.chars().count() < 10 {
        return Err("the password must have at least 10 characters".into());
    }
    let db = db::Db::connect(database_url)
        .await
        .map_err(|e| e.to_string())?;
    db.migrate().await.map_err(|e| e.to_string())?;
    member_server::ops::store::seed::default_tiers_if_empty(&db, chrono::Utc::now().timestamp())
        .await
        .map_err(|e| e.to_string())?;
    let now = chrono::Utc::now().timestamp();
    let created = member_server::staff::store::upsert_admin(&db, username, &password, now)
        .await
        .map_err(|e| e.to_string())?;
    db.close().await;
    println!(
        "{} admin account {username}",
        if created { "created" } else { "updated" }
    );
    Ok(())
}

async fn import_file(
    database_url: &str,
    file: &std::path::Path,
    dry_run: bool,
) -> Result<(), String> {
    let source = member_server::imports::store::Source::open(file)
        .map_err(|e| format!("reading {}: {e}", file.display()))?;
    let db = db::Db::connect(database_url)
        .await
        .map_err(|e| e.to_string())?;
    db.migrate().await.map_err(|e| e.to_string())?;
    let now = chrono::Utc::now().timestamp();
    member_server::ops::store::seed::default_tiers_if_empty(&db, now)
        .await
        .map_err(|e| e.to_string())?;
    let plan = member_server::imports::store::plan(&db, source, now)
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let report = if dry_run {
        plan.dry_run_report()
    } else {
        let total = plan.create.len();
        let done =
            member_server::imports::store::run(&db, &plan, "cli:import", now, |n| async move {
                eprint!("\rimporting {n}/{total}");
            })
            .await
            .map_err(|e| e.to_string())?;
        if total > 0 {
            eprintln!();
        }
        plan.report(false, done.imported, done.late_duplicates, done.points)
    };
    db.close().await;
    print!("{}", member_server::imports::store::jobs::summary(&report));
    Ok(())
}

//! The `kizuna` binary: parse configuration, set up logging, serve until SIGINT/SIGTERM.

/// mimalloc keeps per-connection memory low and steady under many concurrent sockets (measured in
/// docs/benchmarks.md: glibc's per-thread arenas and fragmentation cost kilobytes per socket).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use kizuna_server::{
    config::{self, Command},
    database_config, logging, start, Listeners,
};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, unknown_keys) = match config::parse_args(&args) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("kizuna: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let result = match command {
        Command::Help => {
            print!("{}", config::help_text());
            Ok(())
        }
        Command::Version => {
            println!("kizuna {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Migrate { action, config } => run_migrate(&action, &config).await,
        Command::Serve(config) => serve(config, unknown_keys).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "fatal");
            eprintln!("kizuna: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(config: kizuna_server::Config, unknown_keys: Vec<String>) -> anyhow::Result<()> {
    logging::init(&config.logger)?;
    tracing::info!(version = env!("CARGO_PKG_VERSION"), node = %config.name, "starting kizuna");
    for key in unknown_keys {
        tracing::warn!(key = %key, "unknown configuration key ignored");
    }
    for param in config.insecure_defaults() {
        tracing::warn!(param, "WARNING: insecure default parameter value, change this for production!");
    }
    let listeners = Listeners::bind(&config).await?;
    let server = start(config, listeners).await?;
    tracing::info!(http_addr = %server.http_addr(), metrics_addr = ?server.metrics_addr(), "listening");
    shutdown_signal().await;
    tracing::info!("shutdown requested");
    server.shutdown().await
}

async fn run_migrate(action: &str, config: &kizuna_server::Config) -> anyhow::Result<()> {
    logging::init(&config.logger)?;
    let db = database_config(config)?;
    let store = kizuna_store::Store::open(&db).await?;
    if action == "up" {
        store.migrate_up().await?;
        tracing::info!(database = %db.backend.describe(), "migrations applied");
    }
    for (version, description, applied) in store.migration_status().await? {
        println!("{version} {description} {}", if applied { "applied" } else { "pending" });
    }
    store.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing the SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

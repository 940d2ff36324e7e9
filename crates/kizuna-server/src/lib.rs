//! Wiring: configuration → store → core → edges, and the server's life cycle (Nakama `main.go`).
//!
//! [`start`] takes pre-bound listeners, so tests bind `127.0.0.1:0` and run many servers in one
//! process. Nothing here installs global state; the `kizuna` binary sets up logging.

pub mod config;
pub mod http;
pub mod keys;
pub mod logging;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use kizuna_api::{metrics::ApiMetrics, ApiConfig, ApiState};
use kizuna_core::{matchmaker::MatchmakerConfig, Core, CoreConfig, SessionConfig};
use kizuna_store::{Backend, DatabaseConfig, Store};
use prometheus_client::registry::Registry;
use tokio::{net::TcpListener, sync::watch, task::JoinHandle};

pub use config::Config;

/// Listeners the server serves on, bound by the caller.
pub struct Listeners {
    /// REST API (and later the socket), `socket.port`.
    pub http: TcpListener,
    /// Prometheus `/metrics`, `metrics.prometheus_port`; `None` disables it.
    pub metrics: Option<TcpListener>,
}

impl Listeners {
    /// Binds the listeners the configuration asks for.
    pub async fn bind(config: &Config) -> anyhow::Result<Listeners> {
        let host = if config.socket.address.is_empty() { "0.0.0.0" } else { config.socket.address.as_str() };
        let http = TcpListener::bind((host, config.socket.port))
            .await
            .with_context(|| format!("binding socket.port {} on {host}", config.socket.port))?;
        let metrics = match config.metrics.prometheus_port {
            0 => None,
            port => Some(
                TcpListener::bind((host, port)).await.with_context(|| format!("binding metrics.prometheus_port {port}"))?,
            ),
        };
        Ok(Listeners { http, metrics })
    }
}

/// A running server. Dropping it does not stop it; call [`RunningServer::shutdown`].
pub struct RunningServer {
    http_addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    task: JoinHandle<anyhow::Result<()>>,
    core: Core,
}

impl RunningServer {
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// The core the server runs on (tests use it to act as the server would).
    pub fn core(&self) -> &Core {
        &self.core
    }

    /// Stops accepting connections, lets in-flight requests finish, closes the database.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        self.task.await.context("server task panicked")?
    }
}

/// The store settings for a configuration.
pub fn database_config(config: &Config) -> anyhow::Result<DatabaseConfig> {
    let sqlite_path = config.data_dir.join("kizuna.db");
    let backend = Backend::from_address(&config.database.address, sqlite_path).map_err(anyhow::Error::msg)?;
    Ok(DatabaseConfig {
        backend,
        max_open_conns: config.database.max_open_conns,
        create_database: true,
        sqlite_busy_timeout: Duration::from_millis(config.database.sqlite_busy_timeout_ms),
    })
}

/// Opens the database (migrating it), builds the core and serves the API on `listeners`.
pub async fn start(mut config: Config, listeners: Listeners) -> anyhow::Result<RunningServer> {
    keys::settle_session_keys(&mut config)?;
    let db = database_config(&config)?;
    let store = Store::connect(&db).await.with_context(|| format!("opening database {}", db.backend.describe()))?;
    tracing::info!(database = %db.backend.describe(), "database ready");

    let core = Core::new(
        store.clone(),
        CoreConfig {
            session: SessionConfig {
                encryption_key: config.session.encryption_key.clone(),
                refresh_encryption_key: config.session.refresh_encryption_key.clone(),
                token_expiry_sec: config.session.token_expiry_sec,
                refresh_token_expiry_sec: config.session.refresh_token_expiry_sec,
                single_session: config.session.single_session,
            },
            single_match: config.session.single_match,
            matchmaker: MatchmakerConfig {
                max_tickets: config.matchmaker.max_tickets,
                interval_sec: config.matchmaker.interval_sec,
                max_intervals: config.matchmaker.max_intervals,
                rev_precision: config.matchmaker.rev_precision,
                rev_threshold: config.matchmaker.rev_threshold,
            },
            facebook_instant_game_app_secret: config.social.facebook_instant_game.app_secret.clone(),
        },
    );

    // Logouts, bans and deletions made before a restart still hold.
    core.restore_sessions().await.context("loading session revocations")?;

    let mut registry = Registry::default();
    let metrics = ApiMetrics::register(&mut registry);
    registry.register_collector(Box::new(kizuna_api::metrics::RealtimeCollector(core.clone())));
    let registry = Arc::new(registry);
    let state = ApiState {
        core: core.clone(),
        config: Arc::new(ApiConfig {
            server_key: config.socket.server_key.clone(),
            http_key: config.runtime.http_key.clone(),
            max_request_size_bytes: config.socket.max_request_size_bytes,
            read_timeout: Duration::from_millis(config.socket.read_timeout_ms),
        }),
        metrics,
        socket: Arc::new(kizuna_api::socket::SocketConfig {
            max_message_size_bytes: config.socket.max_message_size_bytes,
            read_buffer_size_bytes: config.socket.read_buffer_size_bytes,
            write_buffer_size_bytes: config.socket.write_buffer_size_bytes,
            outgoing_queue_size: config.socket.outgoing_queue_size,
            ping_period: Duration::from_millis(config.socket.ping_period_ms),
            pong_wait: Duration::from_millis(config.socket.pong_wait_ms),
            write_wait: Duration::from_millis(config.socket.write_wait_ms),
            close_ack_wait: Duration::from_millis(config.socket.close_ack_wait_ms),
            single_socket: config.session.single_socket,
        }),
    };

    let http_addr = listeners.http.local_addr()?;
    let metrics_addr = listeners.metrics.as_ref().map(|l| l.local_addr()).transpose()?;
    let (stop, stopped) = watch::channel(false);

    let app = kizuna_api::router(state);
    let limits = http::HttpLimits {
        read_timeout: Duration::from_millis(config.socket.read_timeout_ms),
        max_connections: match config.socket.max_connections {
            0 => http::default_max_connections(),
            n => n,
        },
    };
    tracing::info!(max_connections = limits.max_connections, "connection limit");
    let mut socket_stop = stopped.clone();
    let socket_core = core.clone();
    // Sockets are told to close as soon as the shutdown starts; they finish their request first.
    tokio::spawn(async move {
        let _ = socket_stop.wait_for(|s| *s).await;
        socket_core.sessions().close_all(kizuna_core::realtime::CloseReason::ServerDisconnect);
    });
    let http = tokio::spawn(http::serve(listeners.http, app, limits, stopped.clone()));
    let metrics_task = listeners.metrics.map(|listener| {
        let mut metrics_stop = stopped.clone();
        tokio::spawn(async move {
            axum::serve(listener, metrics_router(registry))
                .with_graceful_shutdown(async move {
                    let _ = metrics_stop.wait_for(|s| *s).await;
                })
                .await
        })
    });
    // Forget expired revocations every 2 × token_expiry_sec, as Nakama does.
    let sweep_core = core.clone();
    let sweep_every = Duration::from_secs((config.session.token_expiry_sec.max(1) as u64) * 2);
    let mut sweep_stop = stopped.clone();
    let sweeper = tokio::spawn(async move {
        let mut tick = tokio::time::interval(sweep_every);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = sweep_stop.wait_for(|s| *s) => break,
            }
            if let Err(e) = sweep_core.sweep_sessions().await {
                tracing::warn!(error = %e, "session revocation sweep failed");
            }
        }
    });

    // A matchmaker pass every matchmaker.interval_sec.
    let matchmaker_core = core.clone();
    let matchmaker_every = Duration::from_secs(config.matchmaker.interval_sec.max(1));
    let mut matchmaker_stop = stopped.clone();
    let matchmaker = tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + matchmaker_every, matchmaker_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = matchmaker_stop.wait_for(|s| *s) => break,
            }
            // The pass runs on the matchmaker's own thread; this task only waits for it.
            matchmaker_core.matchmaker_process().await;
        }
    });

    let grace = Duration::from_secs(config.shutdown_grace_sec);
    let mut grace_stop = stopped;
    let shutdown_core = core.clone();
    let task = tokio::spawn(async move {
        let mut http = http;
        let served = tokio::select! {
            r = &mut http => r,
            _ = async {
                let _ = grace_stop.wait_for(|s| *s).await;
                tokio::time::sleep(grace).await;
            } => {
                tracing::warn!(grace_sec = grace.as_secs(), "shutdown grace period over, dropping open requests");
                http.abort();
                Ok(())
            }
        };
        // Upgraded sockets are not connections the HTTP server waits for: wait for every session
        // to finish the request it is handling (they were told to close) before the store goes.
        let sessions = shutdown_core.sessions();
        if tokio::time::timeout(grace, sessions.wait_until_empty()).await.is_err() {
            tracing::warn!(sessions = sessions.count(), "shutdown grace period over, sockets still open");
        }
        if let Some(m) = metrics_task {
            let _ = m.await;
        }
        let _ = sweeper.await;
        let _ = matchmaker.await;
        store.close().await;
        tracing::info!("shutdown complete");
        served.context("HTTP server task failed")
    });

    Ok(RunningServer { http_addr, metrics_addr, stop, task, core })
}

use axum::response::IntoResponse;

fn metrics_router(registry: Arc<Registry>) -> axum::Router {
    axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let registry = registry.clone();
            async move {
                let mut body = String::new();
                match prometheus_client::encoding::text::encode(&mut body, &registry) {
                    Ok(()) => (
                        [(axum::http::header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
                        body,
                    )
                        .into_response(),
                    Err(_) => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "metrics encoding failed").into_response(),
                }
            }
        }),
    )
}


//! The realtime socket, `GET /ws` (Nakama `socket_ws.go`, `session_ws.go`, `pipeline.go`;
//! nakama-wire.md §4).
//!
//! Each connection gets a [`SessionHandle`] in core's registry and two tasks: this reader, which
//! decodes frames and handles requests strictly in order, and a writer ([`writer`]) that owns the
//! outbound queue, sends WebSocket pings and enforces write deadlines. Replies travel through the
//! same queue as pushes, so a client sees them in the order the server produced them.

mod dispatch;
mod writer;

use std::{sync::Arc, time::Duration};

use axum::{
    extract::{
        ws::{Message as WsMessage, WebSocket, WebSocketUpgrade},
        Query, State,
    },
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use futures_util::StreamExt;
use kizuna_core::realtime::{CloseReason, Format, SessionHandle};
use kizuna_proto::realtime::{envelope::Message, Envelope, Error as RtError};

use crate::http::{strip_auth_prefix, ApiState};

/// `socket.*` settings of the realtime edge (defaults are Nakama's).
#[derive(Debug, Clone)]
pub struct SocketConfig {
    pub max_message_size_bytes: usize,
    /// Per-connection WebSocket read and write buffers (`socket.read_buffer_size_bytes`,
    /// `socket.write_buffer_size_bytes`). The library default is 128 KiB each, which alone would
    /// make an idle socket cost over 100 KiB; Nakama uses 4 KiB, we default to 1 KiB
    /// (docs/benchmarks.md has the measurements).
    pub read_buffer_size_bytes: usize,
    pub write_buffer_size_bytes: usize,
    pub outgoing_queue_size: usize,
    pub ping_period: Duration,
    pub pong_wait: Duration,
    pub write_wait: Duration,
    /// How long to wait for the client's close frame after ours (`socket.close_ack_wait_ms`).
    pub close_ack_wait: Duration,
    pub single_socket: bool,
}

impl Default for SocketConfig {
    fn default() -> Self {
        SocketConfig {
            max_message_size_bytes: 4096,
            read_buffer_size_bytes: 1024,
            write_buffer_size_bytes: 1024,
            outgoing_queue_size: 64,
            ping_period: Duration::from_millis(15_000),
            pong_wait: Duration::from_millis(25_000),
            write_wait: Duration::from_millis(5_000),
            close_ack_wait: Duration::from_millis(2_000),
            single_socket: false,
        }
    }
}

pub(crate) fn routes() -> Router<ApiState> {
    Router::new().route("/ws", get(upgrade))
}

/// Query parameters of `GET /ws`.
#[derive(Debug, serde::Deserialize)]
struct WsQuery {
    #[serde(default)]
    token: String,
    #[serde(default)]
    format: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    lang: String,
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{text}\n")).into_response()
}

/// `GET /ws` — the socket handshake. Rejections happen before the upgrade, as plain text.
async fn upgrade(
    State(s): State<ApiState>,
    headers: HeaderMap,
    query: Result<Query<WsQuery>, axum::extract::rejection::QueryRejection>,
    ws: WebSocketUpgrade,
) -> Response {
    let Ok(Query(query)) = query else {
        return plain(StatusCode::BAD_REQUEST, "Invalid format parameter");
    };
    let format = match query.format.as_str() {
        "" | "json" => Format::Json,
        "protobuf" => Format::Protobuf,
        _ => return plain(StatusCode::BAD_REQUEST, "Invalid format parameter"),
    };
    // The Authorization header wins over the query token.
    let token = match headers.get(header::AUTHORIZATION) {
        Some(v) => match v.to_str().ok().and_then(|h| strip_auth_prefix(h, "Bearer ")) {
            Some(t) => t.to_owned(),
            None => return plain(StatusCode::UNAUTHORIZED, "Missing or invalid token"),
        },
        None => query.token.clone(),
    };
    if token.is_empty() {
        return plain(StatusCode::UNAUTHORIZED, "Missing or invalid token");
    }
    let Ok(session) = s.core.verify_session_token(&token) else {
        return plain(StatusCode::UNAUTHORIZED, "Missing or invalid token");
    };
    let _lang = if query.lang.is_empty() { "en".to_owned() } else { query.lang };
    let appear_online = matches!(query.status.as_str(), "1" | "t" | "T" | "true" | "TRUE" | "True");
    let config = s.socket.as_ref().clone();
    // The WebSocket layer gets headroom so an oversize message reaches our own check, which
    // closes with 1009 as Nakama does; beyond the headroom the connection just ends.
    let hard_limit = config.max_message_size_bytes.saturating_mul(16).max(64 * 1024);
    ws.max_message_size(hard_limit)
        .max_frame_size(hard_limit)
        .read_buffer_size(config.read_buffer_size_bytes)
        .write_buffer_size(config.write_buffer_size_bytes)
        .on_upgrade(move |socket| serve(s, socket, session.user_id, session.username, format, appear_online))
}

/// Runs one connected session until it closes, then removes it from the registry.
async fn serve(s: ApiState, socket: WebSocket, user_id: uuid::Uuid, username: String, format: Format, appear_online: bool) {
    let config = s.socket.as_ref().clone();
    let (handle, queue, close) = SessionHandle::new(user_id, username, format, config.outgoing_queue_size);
    let sessions = s.core.sessions();
    if config.single_socket {
        for older in sessions.of_user(user_id) {
            older.send(kizuna_core::notification::single_socket_push());
            older.close(CloseReason::Replaced);
        }
    }
    s.core.session_opened(&handle, appear_online);
    tracing::debug!(session = %handle.id, user = %user_id, "socket connected");
    let (sink, mut stream) = socket.split();
    let writer = tokio::spawn(writer::run(sink, queue, close.clone(), config.clone(), format));
    let mut close_rx = close;
    let mut deadline = tokio::time::Instant::now() + config.pong_wait;
    loop {
        // Backpressure: a client that sends faster than it reads is not read from until its
        // answers have drained; only one that stops reading is closed (by the write deadline).
        let room = tokio::select! {
            room = handle.wait_for_room() => room,
            _ = async { close_rx.wait_for(|r| r.is_some()).await.is_ok() } => break,
        };
        if !room {
            break;
        }
        let frame = tokio::select! {
            frame = tokio::time::timeout_at(deadline, stream.next()) => frame,
            _ = async { close_rx.wait_for(|r| r.is_some()).await.is_ok() } => break,
        };
        let frame = match frame {
            Err(_) => {
                tracing::debug!(session = %handle.id, "no pong before the read deadline, closing");
                break;
            }
            Ok(None) | Ok(Some(Err(_))) => break,
            Ok(Some(Ok(frame))) => frame,
        };
        let payload = match (frame, format) {
            (WsMessage::Pong(_), _) => {
                deadline = tokio::time::Instant::now() + config.pong_wait;
                continue;
            }
            (WsMessage::Ping(_), _) => continue,
            (WsMessage::Close(_), _) => break,
            (WsMessage::Text(t), Format::Json) => bytes::Bytes::from(t),
            (WsMessage::Binary(b), Format::Protobuf) => b,
            // The frame type must match the format.
            _ => {
                tracing::debug!(session = %handle.id, "frame type does not match the socket format, closing");
                break;
            }
        };
        if payload.len() > config.max_message_size_bytes {
            tracing::debug!(session = %handle.id, size = payload.len(), "message over socket.max_message_size_bytes, closing");
            handle.close(CloseReason::TooBig);
            break;
        }
        // A chatty client is alive too.
        deadline = tokio::time::Instant::now() + config.pong_wait;
        let Some(envelope) = dispatch::decode(&payload, format) else {
            tracing::debug!(session = %handle.id, "malformed payload, closing");
            handle.close(CloseReason::Malformed);
            break;
        };
        // Boxed: request handling (database queries included) would otherwise be laid out inline
        // in this task's state, and every idle socket would carry its size.
        if Box::pin(dispatch::handle(&s, &handle, envelope)).await.is_break() {
            break;
        }
    }
    s.core.session_closed(&handle);
    // Let the writer flush what is queued (including a final error) and send the close frame.
    handle.close(CloseReason::ServerDisconnect);
    let _ = writer.await;
    // Keep reading until the client answers our close frame (or the deadline passes): closing the
    // TCP connection with unread client data in the buffer makes the kernel send a reset, and the
    // client would lose our close frame (and any last reply) — Nakama waits the same way.
    let deadline = tokio::time::Instant::now() + config.close_ack_wait;
    while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, stream.next()).await {
        if matches!(frame, WsMessage::Close(_)) {
            break;
        }
    }
    tracing::debug!(session = %handle.id, "socket closed");
}

/// An `error` envelope replying to `cid`.
pub(crate) fn error_envelope(cid: &str, code: i32, message: &str) -> Envelope {
    Envelope {
        cid: cid.to_owned(),
        message: Some(Message::Error(RtError { code, message: message.to_owned(), context: Default::default() })),
    }
}

pub(crate) type Shared = Arc<kizuna_core::realtime::Outgoing>;


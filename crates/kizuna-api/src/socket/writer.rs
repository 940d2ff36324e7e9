//! The writer task of one socket: the only owner of the sink and of the outbound queue's
//! receiver. Sends queued envelopes, WebSocket pings every `ping_period`, and the close frame.

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket};
use futures_util::{stream::SplitSink, SinkExt};
use kizuna_core::realtime::{CloseReason, Format};
use tokio::sync::{mpsc, watch};

use super::{Shared, SocketConfig};

pub(super) async fn run(
    mut sink: SplitSink<WebSocket, WsMessage>,
    mut queue: mpsc::Receiver<Shared>,
    mut close: watch::Receiver<Option<CloseReason>>,
    config: SocketConfig,
    format: Format,
) {
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + config.ping_period, config.ping_period);
    loop {
        tokio::select! {
            // Drain queued messages before honouring a close, so a final error reaches the client.
            biased;
            message = queue.recv() => {
                let Some(message) = message else { break };
                let bytes = message.bytes(format).clone();
                let frame = match format {
                    // The JSON encoder only produces UTF-8.
                    Format::Json => WsMessage::Text(String::from_utf8(bytes.to_vec()).unwrap_or_default().into()),
                    Format::Protobuf => WsMessage::Binary(bytes),
                };
                if !send(&mut sink, frame, config.write_wait).await {
                    return;
                }
            }
            // The watch guard is dropped inside this block: it must not live across an await.
            requested = async { close.wait_for(|r| r.is_some()).await.ok().and_then(|r| r.clone()) } => {
                let reason = requested.unwrap_or(CloseReason::ServerDisconnect);
                let frame = CloseFrame { code: reason.code(), reason: reason.text().into() };
                let _ = send(&mut sink, WsMessage::Close(Some(frame)), config.write_wait).await;
                return;
            }
            _ = ping.tick() => {
                if !send(&mut sink, WsMessage::Ping(Default::default()), config.write_wait).await {
                    return;
                }
            }
        }
    }
}

/// Writes one frame within the write deadline; false means the socket is gone.
async fn send(sink: &mut SplitSink<WebSocket, WsMessage>, frame: WsMessage, wait: std::time::Duration) -> bool {
    matches!(tokio::time::timeout(wait, sink.send(frame)).await, Ok(Ok(())))
}

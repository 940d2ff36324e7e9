//! The writer task of one socket: the only owner of the sink and of the outbound queue's
//! receiver. Sends queued envelopes, WebSocket pings every `ping_period`, and the close frame.

use axum::extract::ws::{CloseFrame, Message as WsMessage, Utf8Bytes, WebSocket};
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
                // Write this message and whatever else is already queued, then flush once: one
                // write to the socket for a burst instead of one per message.
                let mut next = Some(message);
                let mut batch = 0;
                while let Some(message) = next.take() {
                    if !within(config.write_wait, sink.feed(frame(&message, format))).await {
                        return;
                    }
                    batch += 1;
                    if batch < MAX_BATCH {
                        next = queue.try_recv().ok();
                    }
                }
                if !within(config.write_wait, sink.flush()).await {
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

/// Most queued messages written before one flush.
const MAX_BATCH: usize = 64;

/// The frame of a queued message in the socket's format. Its bytes are shared with every other
/// recipient, not copied.
fn frame(message: &Shared, format: Format) -> WsMessage {
    let bytes = message.bytes(format).clone();
    match format {
        // The JSON encoder only produces UTF-8; the check does not copy.
        Format::Json => WsMessage::Text(Utf8Bytes::try_from(bytes).unwrap_or_default()),
        Format::Protobuf => WsMessage::Binary(bytes),
    }
}

/// Runs one sink operation within the write deadline; false means the socket is gone.
async fn within<F: std::future::Future<Output = Result<(), axum::Error>>>(wait: std::time::Duration, op: F) -> bool {
    matches!(tokio::time::timeout(wait, op).await, Ok(Ok(())))
}

/// Writes one frame within the write deadline; false means the socket is gone.
async fn send(sink: &mut SplitSink<WebSocket, WsMessage>, frame: WsMessage, wait: std::time::Duration) -> bool {
    within(wait, sink.send(frame)).await
}

//! Socket scenarios: many authenticated WebSockets held open (`socket-hold`), status fan-out to
//! followers (`status-fanout`), and chat fan-out in one room (`chat-fanout`). They speak Nakama's JSON socket protocol to any
//! server (`/ws?token=…`).

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use futures_util::{stream::FuturesUnordered, SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::{net::TcpStream, sync::Semaphore};
use tokio_tungstenite::{tungstenite::Message, MaybeTlsStream, WebSocketStream};

use crate::scenario::{authenticate, Target};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long any single socket step may take before it counts as a failure.
const STEP: Duration = Duration::from_secs(30);

fn ws_url(target: &Target, token: &str) -> String {
    let base = target.base_url.replacen("http://", "ws://", 1).replacen("https://", "wss://", 1);
    format!("{base}/ws?token={token}&format=json")
}

/// Resident memory of a process in KiB (Linux `/proc/<pid>/status`).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// Creates `n` users (device auth) with up to 64 requests in flight; returns their tokens.
async fn users(target: &Target, n: usize, prefix: &str) -> anyhow::Result<Vec<String>> {
    let gate = Arc::new(Semaphore::new(64));
    let mut tasks = FuturesUnordered::new();
    for i in 0..n {
        let (target, gate) = (target.clone(), gate.clone());
        let id = format!("{prefix}-{i}");
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await;
            authenticate(&target, &id).await
        }));
    }
    let mut tokens = Vec::with_capacity(n);
    while let Some(t) = tasks.next().await {
        tokens.push(t??);
    }
    Ok(tokens)
}

async fn connect(target: &Target, token: &str) -> anyhow::Result<Ws> {
    let (ws, _) = tokio::time::timeout(STEP, tokio_tungstenite::connect_async(ws_url(target, token))).await??;
    Ok(ws)
}

/// Sends an envelope and waits for the reply carrying `cid`, skipping pushes.
async fn request(ws: &mut Ws, envelope: Value) -> anyhow::Result<Value> {
    let cid = envelope["cid"].clone();
    ws.send(Message::Text(envelope.to_string().into())).await?;
    loop {
        let frame = tokio::time::timeout(STEP, ws.next()).await?.ok_or_else(|| anyhow::anyhow!("socket closed"))??;
        if let Message::Text(t) = frame {
            let v: Value = serde_json::from_str(&t)?;
            if v.get("cid") == Some(&cid) {
                return Ok(v);
            }
        }
    }
}

/// Result of `socket-hold`.
#[derive(Debug, Serialize)]
pub struct HoldReport {
    pub sockets: usize,
    pub connected: usize,
    pub failed: usize,
    pub connect_per_sec: f64,
    pub pongs: usize,
    pub server_rss_before_kib: Option<u64>,
    pub server_rss_after_kib: Option<u64>,
    pub server_bytes_per_socket: Option<f64>,
}

/// Opens `n` authenticated sockets (256 handshakes in flight), pings each once, holds them for
/// `hold`, and reports the server's resident memory per socket when `server_pid` is given.
pub async fn socket_hold(target: &Target, n: usize, hold: Duration, server_pid: Option<u32>) -> anyhow::Result<HoldReport> {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let tokens = users(target, n, &format!("hold-{run}")).await?;
    let before = server_pid.and_then(rss_kib);
    let gate = Arc::new(Semaphore::new(256));
    let start = Instant::now();
    let mut tasks = FuturesUnordered::new();
    for token in tokens {
        let (target, gate) = (target.clone(), gate.clone());
        tasks.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await;
            let ws = connect(&target, &token).await;
            drop(permit);
            ws
        }));
    }
    let mut sockets = Vec::with_capacity(n);
    let mut failed = 0;
    while let Some(r) = tasks.next().await {
        match r? {
            Ok(ws) => sockets.push(ws),
            Err(_) => failed += 1,
        }
    }
    let connect_secs = start.elapsed().as_secs_f64();
    let mut pongs = 0;
    for (i, ws) in sockets.iter_mut().enumerate() {
        if let Ok(reply) = request(ws, json!({"cid": i.to_string(), "ping": {}})).await {
            pongs += usize::from(reply.get("pong").is_some());
        }
    }
    tokio::time::sleep(hold).await;
    let after = server_pid.and_then(rss_kib);
    let connected = sockets.len();
    let per_socket = match (before, after) {
        (Some(b), Some(a)) if connected > 0 => Some((a.saturating_sub(b) as f64 * 1024.0) / connected as f64),
        _ => None,
    };
    drop(sockets);
    Ok(HoldReport {
        sockets: n,
        connected,
        failed,
        connect_per_sec: connected as f64 / connect_secs,
        pongs,
        server_rss_before_kib: before,
        server_rss_after_kib: after,
        server_bytes_per_socket: per_socket,
    })
}

/// Result of `status-fanout`.
#[derive(Debug, Serialize)]
pub struct FanoutReport {
    pub followers: usize,
    pub updates: u64,
    pub delivered: u64,
    pub delivered_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub missing: u64,
}

fn micros_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

/// `followers` sockets follow one user whose socket updates its status as fast as the server
/// acknowledges, for `duration`. Each update carries its send time; followers measure delivery
/// latency from it. Load generator and server must share a clock (same machine).
pub async fn status_fanout(target: &Target, followers: usize, duration: Duration) -> anyhow::Result<FanoutReport> {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let mut tokens = users(target, followers + 1, &format!("fanout-{run}")).await?;
    let star_token = tokens.pop().expect("at least one user");
    let star_id = crate::scenario::user_id_of(&star_token)?;
    let delivered = Arc::new(AtomicU64::new(0));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut readers = Vec::with_capacity(followers);
    for token in &tokens {
        let mut ws = connect(target, token).await?;
        request(&mut ws, json!({"cid": "f", "status_follow": {"user_ids": [star_id]}})).await?;
        readers.push(spawn_reader(ws, delivered.clone(), stop_rx.clone(), |v| {
            v["status_presence_event"]["joins"][0]["status"].as_str().and_then(|s| s.parse().ok())
        }));
    }
    let mut star = connect(target, &star_token).await?;
    let start = Instant::now();
    let mut updates = 0u64;
    while start.elapsed() < duration {
        request(&mut star, json!({"cid": updates.to_string(), "status_update": {"status": micros_now().to_string()}})).await?;
        updates += 1;
    }
    // Let the last events arrive: the followers' count stops growing within a bounded wait.
    let expected = updates * followers as u64;
    drain(&delivered, expected).await;
    let elapsed = start.elapsed().as_secs_f64();
    drop(star);
    let (hist, got) = collect(readers, stop_tx, &delivered).await;
    let [p50_ms, p99_ms, max_ms] = latencies_ms(&hist);
    Ok(FanoutReport {
        followers,
        updates,
        delivered: got,
        delivered_per_sec: got as f64 / elapsed,
        p50_ms,
        p99_ms,
        max_ms,
        missing: expected.saturating_sub(got),
    })
}

type Reader = tokio::task::JoinHandle<Histogram<u64>>;

/// Reads a socket until told to stop, counting the pushes `sent_at` recognises (it returns their
/// send time in µs) and recording their delivery latency.
fn spawn_reader(mut ws: Ws, delivered: Arc<AtomicU64>, mut stop: tokio::sync::watch::Receiver<bool>, sent_at: fn(&Value) -> Option<u64>) -> Reader {
    tokio::spawn(async move {
        let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds");
        loop {
            let frame = tokio::select! {
                f = ws.next() => f,
                _ = stop.wait_for(|s| *s) => break,
            };
            let Some(Ok(frame)) = frame else { break };
            let Message::Text(t) = frame else { continue };
            let Ok(v) = serde_json::from_str::<Value>(&t) else { continue };
            if let Some(sent) = sent_at(&v) {
                delivered.fetch_add(1, Ordering::Relaxed);
                let _ = hist.record(micros_now().saturating_sub(sent).max(1));
            }
        }
        hist
    })
}

/// Stops the readers and merges their latency histograms; also returns the delivery count.
async fn collect(readers: Vec<Reader>, stop: tokio::sync::watch::Sender<bool>, delivered: &AtomicU64) -> (Histogram<u64>, u64) {
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds");
    let _ = stop.send(true);
    for r in readers {
        if let Ok(h) = r.await {
            hist.add(&h).expect("same bounds");
        }
    }
    (hist, delivered.load(Ordering::Relaxed))
}

/// p50, p99 and max of a µs histogram, in ms.
fn latencies_ms(hist: &Histogram<u64>) -> [f64; 3] {
    [hist.value_at_quantile(0.5), hist.value_at_quantile(0.99), hist.max()].map(|us| us as f64 / 1000.0)
}

/// Waits (bounded) until `delivered` reaches `expected`.
async fn drain(delivered: &AtomicU64, expected: u64) {
    let deadline = Instant::now() + STEP;
    while delivered.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Result of `chat-fanout`.
#[derive(Debug, Serialize)]
pub struct ChatReport {
    pub members: usize,
    pub senders: usize,
    pub messages: u64,
    pub delivered: u64,
    pub delivered_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub missing: u64,
}

/// `members` sockets join one chat room; `senders` more sockets join it too and each sends
/// messages as fast as the server acknowledges them, for `duration`. Every message carries its
/// send time; members measure delivery latency from it.
pub async fn chat_fanout(target: &Target, members: usize, senders: usize, duration: Duration) -> anyhow::Result<ChatReport> {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let room = format!("bench-{}", &run[..12]);
    let channel = format!("2...{room}");
    let mut tokens = users(target, members + senders, &format!("chat-{run}")).await?;
    let sender_tokens = tokens.split_off(members);
    let delivered = Arc::new(AtomicU64::new(0));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut readers = Vec::with_capacity(members);
    for token in &tokens {
        let mut ws = connect(target, token).await?;
        let reply = request(&mut ws, json!({"cid": "j", "channel_join": {"target": room, "type": 1, "persistence": false}})).await?;
        anyhow::ensure!(reply.get("channel").is_some(), "channel join failed: {reply}");
        readers.push(spawn_reader(ws, delivered.clone(), stop_rx.clone(), |v| {
            let content = v["channel_message"]["content"].as_str()?;
            serde_json::from_str::<Value>(content).ok()?["t"].as_u64()
        }));
    }
    let mut sending = Vec::with_capacity(senders);
    for token in &sender_tokens {
        let mut ws = connect(target, token).await?;
        let reply = request(&mut ws, json!({"cid": "j", "channel_join": {"target": room, "type": 1, "persistence": false, "hidden": true}})).await?;
        anyhow::ensure!(reply.get("channel").is_some(), "channel join failed: {reply}");
        sending.push(ws);
    }
    let start = Instant::now();
    let mut tasks = FuturesUnordered::new();
    for mut ws in sending {
        let channel = channel.clone();
        tasks.push(tokio::spawn(async move {
            let mut sent = 0u64;
            while start.elapsed() < duration {
                let content = json!({ "t": micros_now() }).to_string();
                let reply = request(&mut ws, json!({"cid": sent.to_string(), "channel_message_send": {"channel_id": channel, "content": content}})).await?;
                anyhow::ensure!(reply.get("channel_message_ack").is_some(), "send failed: {reply}");
                sent += 1;
            }
            Ok::<u64, anyhow::Error>(sent)
        }));
    }
    let mut messages = 0;
    while let Some(r) = tasks.next().await {
        messages += r??;
    }
    let expected = messages * members as u64;
    drain(&delivered, expected).await;
    let elapsed = start.elapsed().as_secs_f64();
    let (hist, got) = collect(readers, stop_tx, &delivered).await;
    let [p50_ms, p99_ms, max_ms] = latencies_ms(&hist);
    Ok(ChatReport {
        members,
        senders,
        messages,
        delivered: got,
        delivered_per_sec: got as f64 / elapsed,
        p50_ms,
        p99_ms,
        max_ms,
        missing: expected.saturating_sub(got),
    })
}

/// Sends `count` persistent chat messages to a room (set-up for history listings).
pub async fn send_to_room(target: &Target, token: &str, room: &str, count: usize) -> anyhow::Result<()> {
    if count == 0 {
        return Ok(());
    }
    let mut ws = connect(target, token).await?;
    let reply = request(&mut ws, json!({"cid": "j", "channel_join": {"target": room, "type": 1}})).await?;
    anyhow::ensure!(reply.get("channel").is_some(), "channel join failed: {reply}");
    for i in 0..count {
        let content = json!({ "n": i }).to_string();
        let reply = request(&mut ws, json!({"cid": i.to_string(), "channel_message_send": {"channel_id": format!("2...{room}"), "content": content}})).await?;
        anyhow::ensure!(reply.get("channel_message_ack").is_some(), "send failed: {reply}");
    }
    Ok(())
}

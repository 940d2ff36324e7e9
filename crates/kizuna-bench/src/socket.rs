//! Socket scenarios: many authenticated WebSockets held open (`socket-hold`), status fan-out to
//! followers (`status-fanout`), chat fan-out in one room (`chat-fanout`), and relayed matches
//! (`match-relay`). They speak Nakama's JSON socket protocol to any server (`/ws?token=…`).

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

/// What a fan-out scenario delivered: counts, rate and delivery latency.
#[derive(Debug, Serialize)]
pub struct Delivery {
    pub delivered: u64,
    pub delivered_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Expected deliveries that never arrived.
    pub missing: u64,
}

/// Result of `status-fanout`.
#[derive(Debug, Serialize)]
pub struct FanoutReport {
    pub followers: usize,
    pub updates: u64,
    #[serde(flatten)]
    pub delivery: Delivery,
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
    let delivery = finish(readers, stop_tx, &delivered, updates * followers as u64, start).await;
    drop(star);
    Ok(FanoutReport { followers, updates, delivery })
}

type Reader = tokio::task::JoinHandle<Histogram<u64>>;

/// Reads a socket until told to stop, counting the pushes `sent_at` recognises (it returns their
/// send time in µs) and recording their delivery latency.
fn spawn_reader<S>(mut ws: S, delivered: Arc<AtomicU64>, mut stop: tokio::sync::watch::Receiver<bool>, sent_at: fn(&Value) -> Option<u64>) -> Reader
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin + Send + 'static,
{
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

/// Lets the last pushes arrive (the count stops short of `expected` only after a bounded wait),
/// then stops the readers and merges what they measured since `start`.
async fn finish(readers: Vec<Reader>, stop: tokio::sync::watch::Sender<bool>, delivered: &AtomicU64, expected: u64, start: Instant) -> Delivery {
    let deadline = Instant::now() + STEP;
    while delivered.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds");
    let _ = stop.send(true);
    for r in readers {
        if let Ok(h) = r.await {
            hist.add(&h).expect("same bounds");
        }
    }
    let got = delivered.load(Ordering::Relaxed);
    let [p50_ms, p99_ms, max_ms] = [hist.value_at_quantile(0.5), hist.value_at_quantile(0.99), hist.max()].map(|us| us as f64 / 1000.0);
    Delivery { delivered: got, delivered_per_sec: got as f64 / elapsed, p50_ms, p99_ms, max_ms, missing: expected.saturating_sub(got) }
}

/// Result of `chat-fanout`.
#[derive(Debug, Serialize)]
pub struct ChatReport {
    pub members: usize,
    pub senders: usize,
    pub messages: u64,
    #[serde(flatten)]
    pub delivery: Delivery,
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
    let delivery = finish(readers, stop_tx, &delivered, messages * members as u64, start).await;
    Ok(ChatReport { members, senders, messages, delivery })
}

/// Result of `match-relay`.
#[derive(Debug, Serialize)]
pub struct RelayReport {
    pub matches: usize,
    pub players_per_match: usize,
    pub tick_rate: u32,
    pub payload_bytes: usize,
    pub sent: u64,
    /// Sockets the server closed during the run.
    pub closed_sockets: usize,
    #[serde(flatten)]
    pub delivery: Delivery,
}

/// `players` sockets in relayed matches of `per_match` players each; every player sends match
/// data of `payload` bytes `tick_rate` times a second for `duration` (open loop: sends follow the
/// clock, not the server), and the server relays each to the other players of its match. The
/// send time travels in `op_code`; receivers measure delivery latency from it.
pub async fn match_relay(target: &Target, players: usize, per_match: usize, tick_rate: u32, payload: usize, duration: Duration) -> anyhow::Result<RelayReport> {
    anyhow::ensure!(per_match >= 2 && players >= per_match, "match-relay needs at least 2 players per match and --clients >= --players");
    anyhow::ensure!((1..=1000).contains(&tick_rate), "--tick-rate must be 1..1000");
    let run = uuid::Uuid::new_v4().simple().to_string();
    let matches = players / per_match;
    let tokens = users(target, matches * per_match, &format!("relay-{run}")).await?;
    let delivered = Arc::new(AtomicU64::new(0));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut readers = Vec::with_capacity(tokens.len());
    let mut writers = Vec::with_capacity(tokens.len());
    for group in tokens.chunks(per_match) {
        let mut match_id: Option<String> = None;
        for token in group {
            let mut ws = connect(target, token).await?;
            let reply = match &match_id {
                None => request(&mut ws, json!({"cid": "c", "match_create": {}})).await?,
                Some(id) => request(&mut ws, json!({"cid": "j", "match_join": {"match_id": id}})).await?,
            };
            let id = reply["match"]["match_id"].as_str().ok_or_else(|| anyhow::anyhow!("match create/join failed: {reply}"))?;
            let id = match_id.get_or_insert_with(|| id.to_owned()).clone();
            let (sink, stream) = ws.split();
            readers.push(spawn_reader(stream, delivered.clone(), stop_rx.clone(), |v| v["match_data"]["op_code"].as_str()?.parse().ok()));
            writers.push((sink, id));
        }
    }
    let data = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, vec![7u8; payload]);
    let start = Instant::now();
    let mut tasks = FuturesUnordered::new();
    for (i, (mut sink, match_id)) in writers.into_iter().enumerate() {
        let data = data.clone();
        tasks.push(tokio::spawn(async move {
            let period = Duration::from_secs_f64(1.0 / tick_rate as f64);
            // Spread the players over one tick so that they do not all send at the same instant.
            let first = tokio::time::Instant::now() + period.mul_f64((i % 97) as f64 / 97.0);
            let mut ticks = tokio::time::interval_at(first, period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let mut sent = 0u64;
            while start.elapsed() < duration {
                ticks.tick().await;
                let frame = json!({"match_data_send": {"match_id": match_id, "op_code": micros_now().to_string(), "data": data}});
                if sink.send(Message::Text(frame.to_string().into())).await.is_err() {
                    // The server closed this socket (e.g. its outgoing queue overflowed).
                    return (sent, true);
                }
                sent += 1;
            }
            (sent, false)
        }));
    }
    let (mut sent, mut closed) = (0, 0);
    while let Some(r) = tasks.next().await {
        let (n, was_closed) = r?;
        sent += n;
        closed += usize::from(was_closed);
    }
    // A closed socket's match-mates miss what it would have sent, and it misses theirs: the
    // count of missing deliveries shows it alongside `closed_sockets`.
    let delivery = finish(readers, stop_tx, &delivered, sent * (per_match as u64 - 1), start).await;
    Ok(RelayReport { matches, players_per_match: per_match, tick_rate, payload_bytes: payload, sent, closed_sockets: closed, delivery })
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

/// Result of `matchmaker`.
#[derive(Debug, Serialize)]
pub struct MatchmakerReport {
    pub players: usize,
    pub regions: usize,
    pub matched: usize,
    /// Players still waiting when the run ended.
    pub unmatched: usize,
    pub matches: usize,
    /// Sockets the server closed before their player was matched.
    pub closed_sockets: usize,
    /// From `matchmaker_add` to `matchmaker_matched`, which includes waiting for the server's
    /// next pass (`matchmaker.interval_sec`).
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// What happened to one player of the matchmaker scenario.
enum Waited {
    Matched(Duration, String),
    Unmatched,
    Closed,
}

/// `players` sockets each queue one ticket (2–4 players of the same region, one of `regions`,
/// within 30 skill points) and wait up to `wait` for `matchmaker_matched`. Measures time to match
/// and how many players the server grouped. Each socket is read from the moment it connects (so
/// the server's WebSocket pings are answered however long the set-up takes), and a socket the
/// server closes is counted, not fatal: any Nakama-protocol server can be measured.
pub async fn matchmaker(target: &Target, players: usize, regions: usize, wait: Duration) -> anyhow::Result<MatchmakerReport> {
    anyhow::ensure!(players >= 2 && regions >= 1, "matchmaker needs at least 2 players and 1 region");
    let run = uuid::Uuid::new_v4().simple().to_string();
    let tokens = users(target, players, &format!("mm-{run}")).await?;
    // Set (with the start time) once every player is connected.
    let (start, started) = tokio::sync::watch::channel(None::<Instant>);
    let mut tasks = FuturesUnordered::new();
    for (i, token) in tokens.iter().enumerate() {
        let mut ws = connect(target, token).await?;
        let region = format!("{}-{}", &run[..8], i % regions);
        let skill = (i * 37 % 100) as f64;
        let mut started = started.clone();
        tasks.push(tokio::spawn(async move {
            // Until every player is connected, keep reading (answering pings).
            let begun = loop {
                tokio::select! {
                    begun = started.wait_for(Option::is_some) => match begun {
                        Ok(at) => break at.expect("checked"),
                        Err(_) => return Ok(Waited::Unmatched),
                    },
                    frame = ws.next() => match frame {
                        None | Some(Err(_)) => return Ok(Waited::Closed),
                        Some(Ok(_)) => continue,
                    },
                }
            };
            let deadline = begun + wait;
            let query = format!("+properties.region:{region} +properties.skill:>={} +properties.skill:<={}", skill - 30.0, skill + 30.0);
            let added = Instant::now();
            let reply = request(
                &mut ws,
                json!({"cid": "a", "matchmaker_add": {"min_count": 2, "max_count": 4, "query": query,
                    "string_properties": {"region": region}, "numeric_properties": {"skill": skill}}}),
            )
            .await;
            let Ok(reply) = reply else { return Ok(Waited::Closed) };
            anyhow::ensure!(reply.get("matchmaker_ticket").is_some(), "matchmaker_add failed: {reply}");
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                let frame = match tokio::time::timeout(left, ws.next()).await {
                    Err(_) => return Ok(Waited::Unmatched),
                    Ok(None) | Ok(Some(Err(_))) => return Ok(Waited::Closed),
                    Ok(Some(Ok(f))) => f,
                };
                let Message::Text(t) = frame else { continue };
                let v: Value = serde_json::from_str(&t)?;
                if let Some(m) = v.get("matchmaker_matched") {
                    let token = m["token"].as_str().unwrap_or_default().to_owned();
                    return Ok(Waited::Matched(added.elapsed(), token));
                }
            }
        }));
    }
    let _ = start.send(Some(Instant::now()));
    let mut hist = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).expect("bounds");
    let (mut matched, mut unmatched, mut closed_sockets) = (0, 0, 0);
    let mut tokens = std::collections::HashSet::new();
    while let Some(r) = tasks.next().await {
        match r?? {
            Waited::Matched(elapsed, token) => {
                matched += 1;
                tokens.insert(token);
                let _ = hist.record(elapsed.as_micros().max(1) as u64);
            }
            Waited::Unmatched => unmatched += 1,
            Waited::Closed => closed_sockets += 1,
        }
    }
    let [p50_ms, p99_ms, max_ms] = [hist.value_at_quantile(0.5), hist.value_at_quantile(0.99), hist.max()].map(|us| us as f64 / 1000.0);
    Ok(MatchmakerReport { players, regions, matched, unmatched, matches: tokens.len(), closed_sockets, p50_ms, p99_ms, max_ms })
}

//! A realtime socket client for tests: connects to `/ws`, sends envelopes as JSON or protobuf,
//! and waits for frames with a timeout (never a sleep).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use kizuna_proto::{json, realtime::Envelope};
use prost::Message as _;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::{tungstenite::Message, MaybeTlsStream, WebSocketStream};

/// How long a test waits for an expected frame before failing.
pub const WAIT: Duration = Duration::from_secs(5);

/// A connected test socket.
pub struct TestSocket {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub protobuf: bool,
    /// Pushes that arrived while [`TestSocket::call`] waited for a reply, in arrival order.
    held: std::collections::VecDeque<Value>,
}

/// What arrived on the socket.
#[derive(Debug)]
pub enum Received {
    Envelope(Value),
    Close(Option<(u16, String)>),
}

impl TestSocket {
    /// Connects to `url` (`ws://host:port/ws?...`); `Err` carries the HTTP status and body of a
    /// refused handshake.
    pub async fn connect(url: &str) -> Result<TestSocket, (u16, String)> {
        match tokio_tungstenite::connect_async(url).await {
            Ok((ws, _)) => Ok(TestSocket { ws, protobuf: url.contains("format=protobuf"), held: Default::default() }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                let status = response.status().as_u16();
                let body = response.body().as_ref().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
                Err((status, body))
            }
            Err(e) => Err((0, e.to_string())),
        }
    }

    /// Sends raw text.
    pub async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::Text(text.into())).await.expect("send text frame");
    }

    /// Sends raw bytes as a binary frame.
    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.ws.send(Message::Binary(bytes.into())).await.expect("send binary frame");
    }

    /// Sends an envelope given as Nakama JSON, in the socket's format.
    pub async fn send(&mut self, envelope: Value) {
        if self.protobuf {
            let env: Envelope = json::from_json(envelope.to_string().as_bytes(), json::Unknown::Reject).expect("valid envelope JSON");
            self.send_binary(env.encode_to_vec()).await;
        } else {
            self.send_text(&envelope.to_string()).await;
        }
    }

    /// The next envelope or close, skipping WebSocket pings/pongs. Panics after [`WAIT`].
    pub async fn next(&mut self) -> Received {
        loop {
            let frame = tokio::time::timeout(WAIT, self.ws.next()).await.expect("a frame within the wait");
            match frame {
                None | Some(Err(_)) => return Received::Close(None),
                Some(Ok(Message::Text(t))) => return Received::Envelope(serde_json::from_str(&t).expect("JSON frame")),
                Some(Ok(Message::Binary(b))) => {
                    let env = Envelope::decode(b.as_ref()).expect("protobuf frame");
                    return Received::Envelope(serde_json::from_slice(&json::to_json(&env)).expect("JSON of envelope"));
                }
                Some(Ok(Message::Close(frame))) => {
                    return Received::Close(frame.map(|f| (u16::from(f.code), f.reason.to_string())));
                }
                Some(Ok(_)) => continue,
            }
        }
    }

    /// The next envelope (held pushes first); panics on a close.
    pub async fn recv(&mut self) -> Value {
        if let Some(v) = self.held.pop_front() {
            return v;
        }
        match self.next().await {
            Received::Envelope(v) => v,
            Received::Close(c) => panic!("socket closed: {c:?}"),
        }
    }

    /// The next push carrying `member`, skipping pushes of other kinds; returns the member.
    pub async fn next_push(&mut self, member: &str) -> Value {
        loop {
            let v = self.recv().await;
            if let Some(m) = v.get(member) {
                return m.clone();
            }
        }
    }

    /// Sends a request and returns the reply.
    pub async fn request(&mut self, envelope: Value) -> Value {
        self.send(envelope).await;
        self.recv().await
    }

    /// Sends a request and returns the envelope answering its `cid`, skipping pushes that arrive
    /// before it (for sockets whose pushes a test does not examine).
    pub async fn request_skipping_pushes(&mut self, envelope: Value) -> Value {
        let cid = envelope["cid"].clone();
        self.send(envelope).await;
        loop {
            let got = self.recv().await;
            if got.get("cid") == Some(&cid) {
                return got;
            }
        }
    }

    /// Sends a request and returns the envelope answering its `cid`; pushes that arrive first are
    /// kept for [`TestSocket::recv`], in order.
    pub async fn call(&mut self, envelope: Value) -> Value {
        let cid = envelope["cid"].clone();
        self.send(envelope).await;
        let mut pushes = Vec::new();
        let reply = loop {
            let got = match self.next().await {
                Received::Envelope(v) => v,
                Received::Close(c) => panic!("socket closed: {c:?}"),
            };
            if got.get("cid") == Some(&cid) {
                break got;
            }
            pushes.push(got);
        };
        self.held.extend(pushes);
        reply
    }

    /// Waits for the server to close the socket; returns the close code and reason if sent.
    pub async fn closed(&mut self) -> Option<(u16, String)> {
        loop {
            if let Received::Close(c) = self.next().await {
                return c;
            }
        }
    }
}

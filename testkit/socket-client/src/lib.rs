//! A small Socket.IO v4 client over a WebSocket, for the benchmark and the Rust tests
//! (browsers use the wasm client in `app::realtime`; other tools, the official JS client).

use app::realtime::protocol::{Packet, encode_connect, encode_event, encode_pong, parse_packet};
use futures::{SinkExt, StreamExt};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// One event as it arrived: name, first argument, and when it came in.
#[derive(Debug, Clone)]
pub struct Received {
    pub name: String,
    pub payload: Value,
    pub at: Instant,
}

pub struct SocketClient {
    events: mpsc::UnboundedReceiver<Received>,
    outgoing: mpsc::UnboundedSender<(String, Value)>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SocketClient {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SocketClient {
    /// Connects to `base` (`http://host:port`) with `auth`; fails on CONNECT_ERROR.
    pub async fn connect(base: &str, auth: Value) -> Result<SocketClient, String> {
        let mut ws = handshake(base, &auth).await?;
        let (tx, events) = mpsc::unbounded_channel();
        let (outgoing, mut to_send) = mpsc::unbounded_channel::<(String, Value)>();
        let task = tokio::spawn(async move {
            loop {
                let frame = tokio::select! {
                    frame = ws.next() => frame,
                    sending = to_send.recv() => {
                        if let Some((name, payload)) = sending {
                            let _ = ws.send(WsMessage::text(encode_event(&name, payload))).await;
                        }
                        continue;
                    }
                };
                let Some(Ok(frame)) = frame else { return };
                let WsMessage::Text(text) = frame else { continue };
                match parse_packet(text.as_str()) {
                    Packet::Ping { data } => {
                        let _ = ws.send(WsMessage::text(encode_pong(&data))).await;
                    }
                    Packet::Event { name, payload, .. } => {
                        let listener_gone = tx
                            .send(Received {
                                name,
                                payload,
                                at: Instant::now(),
                            })
                            .is_err();
                        if listener_gone {
                            return;
                        }
                    }
                    Packet::Close | Packet::Disconnect { .. } => return,
                    _ => {}
                }
            }
        });
        Ok(SocketClient { events, outgoing, task })
    }

    /// Sends an event (`42["name",payload]`).
    pub fn emit(&self, name: &str, payload: Value) {
        let _ = self.outgoing.send((name.to_string(), payload));
    }

    pub async fn next(&mut self, timeout: Duration) -> Option<Received> {
        tokio::time::timeout(timeout, self.events.recv()).await.ok().flatten()
    }

    /// Skips events until one named `name` arrives, or `timeout` passes.
    pub async fn wait_for(&mut self, name: &str, timeout: Duration) -> Option<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let event = self.next(left).await?;
            if event.name == name {
                return Some(event);
            }
        }
    }
}

/// A socket that only counts the events named `name` it receives, without parsing them: a
/// thousand of these cost the benchmark little beside the server it measures.
pub struct CountingSocket {
    pub count: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for CountingSocket {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl CountingSocket {
    pub async fn connect(base: &str, auth: Value, name: &str) -> Result<CountingSocket, String> {
        let mut ws = handshake(base, &auth).await?;
        let count = Arc::new(AtomicU64::new(0));
        let counted = count.clone();
        let prefix = format!("42[\"{name}\"");
        let task = tokio::spawn(async move {
            while let Some(Ok(frame)) = ws.next().await {
                let WsMessage::Text(text) = frame else { continue };
                if text.as_str().starts_with(&prefix) {
                    counted.fetch_add(1, Ordering::Relaxed);
                } else if text.as_str().starts_with('2')
                    && let Packet::Ping { data } = parse_packet(text.as_str())
                {
                    let _ = ws.send(WsMessage::text(encode_pong(&data))).await;
                }
            }
        });
        Ok(CountingSocket { count, task })
    }

    pub fn received(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens the WebSocket and completes the Engine.IO open and Socket.IO CONNECT.
async fn handshake(base: &str, auth: &Value) -> Result<Ws, String> {
    let url = format!(
        "{}/socket.io/?EIO=4&transport=websocket",
        base.replacen("http", "ws", 1)
    );
    // Small reads: tungstenite zero-fills its whole read buffer (128 KiB by default) before
    // every read, which for a thousand sockets was most of what the benchmark's clients did.
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
        .await
        .map_err(|e| e.to_string())?;
    loop {
        let frame = ws
            .next()
            .await
            .ok_or("closed during the handshake")?
            .map_err(|e| e.to_string())?;
        let WsMessage::Text(text) = frame else { continue };
        match parse_packet(text.as_str()) {
            Packet::Open { .. } => ws
                .send(WsMessage::text(encode_connect(auth)))
                .await
                .map_err(|e| e.to_string())?,
            Packet::Ping { data } => ws
                .send(WsMessage::text(encode_pong(&data)))
                .await
                .map_err(|e| e.to_string())?,
            Packet::Connect { .. } => return Ok(ws),
            Packet::ConnectError { message, .. } => return Err(message),
            _ => {}
        }
    }
}

//! Live updates for the inbox: a small Socket.IO v4 client for the browser.
//!
//! The server speaks Socket.IO at `/socket.io/` (Engine.IO protocol v4 underneath, Socket.IO
//! protocol v5 on top). No maintained Rust Socket.IO client runs in wasm, so the browser side
//! talks the wire protocol itself over a plain `WebSocket` (no HTTP long-polling fallback,
//! exactly like `io({ transports: ["websocket"] })`).
//!
//! Wire facts this module relies on (Engine.IO v4 spec and Socket.IO v5 spec, both in
//! `socketio/socket.io` under `docs/engine.io-protocol/v4-current.md` and
//! `docs/socket.io-protocol/v5-current.md`):
//!
//! * every WebSocket frame is one Engine.IO packet `<type>[<data>]`: `0` open (JSON handshake
//!   with `sid`, `upgrades`, `pingInterval`, `pingTimeout`, `maxPayload`, in ms), `1` close,
//!   `2` ping, `3` pong, `4` message, `5` upgrade, `6` noop;
//! * in v4 the *server* sends `2` every `pingInterval` and the client answers `3`; a client
//!   that sees no ping within `pingInterval + pingTimeout` should consider the connection closed;
//! * a Socket.IO packet travels inside an Engine.IO message, encoded as
//!   `<type>[<#attachments>-][<namespace>,][<ack id>][<JSON payload>]`, the namespace only when
//!   it is not `/`; types: `0` CONNECT, `1` DISCONNECT, `2` EVENT, `3` ACK, `4` CONNECT_ERROR,
//!   `5` BINARY_EVENT, `6` BINARY_ACK;
//! * the client must send CONNECT first (`40`, optionally with an auth object `40{...}`); the
//!   server answers `40{"sid":...}` or `44{"message":...}`; events are `42["name",args...]`.
//!
//! [`protocol`] holds the pure, target-independent parsing/encoding (unit-tested natively);
//! the WebSocket client ([`Realtime`]) is compiled only with the `hydrate` feature.

use serde::{Deserialize, Serialize};

/// Where the live connection stands, as reported to [`RealtimeOptions::on_state`].
///
/// Target-independent so UI code (rendered on the server too) can hold it in a signal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConnectionState {
    /// First connection attempt in progress.
    Connecting,
    /// The server accepted the Socket.IO CONNECT; events flow.
    Connected,
    /// The connection was lost (or never came up); attempt `attempt` (1, 2, ...) is scheduled
    /// after a backoff delay. Reset to 1 after every successful connect.
    Reconnecting { attempt: u32 },
    /// The server refused the CONNECT (`44{"message":...}`), e.g. the session is no longer
    /// valid. Terminal: no further reconnects.
    Refused(String),
}

/// Pure Engine.IO v4 / Socket.IO v5 text-packet parsing and encoding.
pub mod protocol {
    use serde_json::Value;

    /// Engine.IO default `pingInterval` (ms), used if the open packet lacks it.
    pub const DEFAULT_PING_INTERVAL_MS: u32 = 25_000;
    /// Engine.IO default `pingTimeout` (ms), used if the open packet lacks it.
    pub const DEFAULT_PING_TIMEOUT_MS: u32 = 20_000;
    /// Socket.IO DISCONNECT for the main namespace (Engine.IO message `4` + Socket.IO `1`).
    pub const DISCONNECT: &str = "41";
    /// Path and query of the WebSocket-only Engine.IO v4 endpoint.
    pub const SOCKET_PATH: &str = "/socket.io/?EIO=4&transport=websocket";

    /// First reconnect delay.
    pub const BACKOFF_BASE_MS: u32 = 500;
    /// Longest reconnect delay.
    pub const BACKOFF_MAX_MS: u32 = 10_000;
    /// Fraction of the delay that jitter may shave off (delay is in `[(1 - J) * d, d]`).
    pub const BACKOFF_JITTER: f64 = 0.2;

    /// The main namespace.
    pub const MAIN_NAMESPACE: &str = "/";

    /// One decoded text frame.
    #[derive(Debug, Clone, PartialEq)]
    pub enum Packet {
        /// Engine.IO `0{...}`: handshake.
        Open {
            sid: String,
            ping_interval_ms: u32,
            ping_timeout_ms: u32,
        },
        /// Engine.IO `1`: the server closes the transport.
        Close,
        /// Engine.IO `2[data]`: heartbeat from the server; answer with [`encode_pong`].
        Ping { data: String },
        /// Engine.IO `3[data]`.
        Pong,
        /// Engine.IO `5` (only used when upgrading from polling; never expected here).
        Upgrade,
        /// Engine.IO `6`.
        Noop,
        /// Socket.IO CONNECT reply `40[ns,]{"sid":...}`.
        Connect { namespace: String, sid: Option<String> },
        /// Socket.IO DISCONNECT `41[ns,]`.
        Disconnect { namespace: String },
        /// Socket.IO EVENT `42[ns,][ack]["name",arg0,...]`; `payload` is `arg0` or `Null`.
        Event {
            namespace: String,
            ack_id: Option<u64>,
            name: String,
            payload: Value,
        },
        /// Socket.IO ACK `43[ns,]<id>[...]` (this client never asks for acks).
        Ack { namespace: String, ack_id: Option<u64> },
        /// Socket.IO CONNECT_ERROR `44[ns,]{"message":...}` (or a bare JSON string, as in
        /// protocol v4).
        ConnectError { namespace: String, message: String },
        /// Socket.IO BINARY_EVENT / BINARY_ACK (`45`, `46`): not supported by this client.
        Binary,
        /// Anything malformed; the reason is for logs only.
        Invalid(&'static str),
    }

    /// Decode one WebSocket text frame.
    pub fn parse_packet(text: &str) -> Packet {
        let Some(kind) = text.as_bytes().first() else {
            return Packet::Invalid("empty frame");
        };
        // The first byte is ASCII here whenever we slice, so `[1..]` is a char boundary.
        match kind {
            b'0' => parse_open(&text[1..]),
            b'1' => Packet::Close,
            b'2' => Packet::Ping {
                data: text[1..].to_owned(),
            },
            b'3' => Packet::Pong,
            b'4' => parse_socketio(&text[1..]),
            b'5' => Packet::Upgrade,
            b'6' => Packet::Noop,
            _ => Packet::Invalid("unknown engine.io packet type"),
        }
    }

    fn parse_open(json: &str) -> Packet {
        let Ok(Value::Object(handshake)) = serde_json::from_str::<Value>(json) else {
            return Packet::Invalid("open packet without a JSON object");
        };
        let millis = |key: &str, default: u32| {
            handshake
                .get(key)
                .and_then(Value::as_u64)
                .map_or(default, |v| u32::try_from(v).unwrap_or(u32::MAX))
        };
        Packet::Open {
            sid: handshake
                .get("sid")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            ping_interval_ms: millis("pingInterval", DEFAULT_PING_INTERVAL_MS),
            ping_timeout_ms: millis("pingTimeout", DEFAULT_PING_TIMEOUT_MS),
        }
    }

    /// Decode a Socket.IO packet (the Engine.IO message body, after the leading `4`).
    fn parse_socketio(body: &str) -> Packet {
        let Some(kind) = body.as_bytes().first().copied() else {
            return Packet::Invalid("empty socket.io packet");
        };
        if kind == b'5' || kind == b'6' {
            return Packet::Binary;
        }
        let mut rest = &body[1..];

        // `/namespace,` (only present when not the main namespace)
        let namespace = if rest.starts_with('/') {
            match rest.find(',') {
                Some(comma) => {
                    let ns = &rest[..comma];
                    rest = &rest[comma + 1..];
                    ns
                }
                None => std::mem::take(&mut rest),
            }
        } else {
            MAIN_NAMESPACE
        }
        .to_owned();

        // optional ack id: the digits before the JSON payload
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let ack_id = if digits == 0 {
            None
        } else {
            match rest[..digits].parse::<u64>() {
                Ok(id) => Some(id),
                Err(_) => return Packet::Invalid("ack id out of range"),
            }
        };
        rest = &rest[digits..];

        let data = if rest.is_empty() {
            None
        } else {
            match serde_json::from_str::<Value>(rest) {
                Ok(value) => Some(value),
                Err(_) => return Packet::Invalid("socket.io payload is not JSON"),
            }
        };

        match kind {
            b'0' => Packet::Connect {
                namespace,
                sid: data
                    .as_ref()
                    .and_then(|d| d.get("sid"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            },
            b'1' => Packet::Disconnect { namespace },
            b'2' => {
                let Some(Value::Array(args)) = data else {
                    return Packet::Invalid("event payload is not an array");
                };
                let mut args = args.into_iter();
                let Some(Value::String(name)) = args.next() else {
                    return Packet::Invalid("event without a name");
                };
                Packet::Event {
                    namespace,
                    ack_id,
                    name,
                    payload: args.next().unwrap_or(Value::Null),
                }
            }
            b'3' => Packet::Ack { namespace, ack_id },
            b'4' => {
                let message = match data {
                    Some(Value::Object(map)) => map.get("message").and_then(Value::as_str).map(str::to_owned),
                    Some(Value::String(s)) => Some(s),
                    _ => None,
                };
                Packet::ConnectError {
                    namespace,
                    message: message.unwrap_or_else(|| "connection refused".to_owned()),
                }
            }
            _ => Packet::Invalid("unknown socket.io packet type"),
        }
    }

    /// Socket.IO CONNECT to the main namespace: `40`, or `40{auth}` when `auth` is not null.
    pub fn encode_connect(auth: &Value) -> String {
        if auth.is_null() {
            "40".to_owned()
        } else {
            format!("40{auth}")
        }
    }

    /// Socket.IO EVENT to the main namespace: `42["name",payload]`.
    pub fn encode_event(name: &str, payload: Value) -> String {
        let args = Value::Array(vec![Value::String(name.to_owned()), payload]);
        format!("42{args}")
    }

    /// Engine.IO pong answering a ping that carried `data` (normally empty: `3`).
    pub fn encode_pong(data: &str) -> String {
        format!("3{data}")
    }

    /// WebSocket URL of the Socket.IO endpoint for a page served over `page_protocol`
    /// (`"https:"` / `"http:"`, as in `location.protocol`) from `host` (`location.host`).
    pub fn socket_url(page_protocol: &str, host: &str) -> String {
        let scheme = if page_protocol.eq_ignore_ascii_case("https:") {
            "wss"
        } else {
            "ws"
        };
        format!("{scheme}://{host}{SOCKET_PATH}")
    }

    /// Delay before reconnect attempt `attempt` (1-based): 500 ms doubling up to 10 s, minus up
    /// to 20 % jitter. `random` is in `[0, 1)` (e.g. `Math.random()`).
    pub fn backoff_delay_ms(attempt: u32, random: f64) -> u32 {
        let doublings = attempt.saturating_sub(1).min(31);
        let base = BACKOFF_BASE_MS.saturating_mul(1u32 << doublings).min(BACKOFF_MAX_MS);
        let jitter = random.clamp(0.0, 1.0) * BACKOFF_JITTER;
        // `base` <= 10_000, so the product fits in u32 and is non-negative.
        (f64::from(base) * (1.0 - jitter)).round() as u32
    }
}

#[cfg(feature = "hydrate")]
pub use client::{AuthFn, EventFn, Realtime, RealtimeOptions, StateFn};

#[cfg(feature = "hydrate")]
mod client {
    use super::ConnectionState;
    use super::protocol::{self, MAIN_NAMESPACE, Packet};
    use gloo_timers::callback::Timeout;
    use serde_json::Value;
    use std::cell::RefCell;
    use std::rc::Rc;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::JsValue;
    use wasm_bindgen::closure::Closure;
    use web_sys::{BinaryType, MessageEvent, WebSocket};

    /// How long a fresh socket may take to deliver the Engine.IO open packet
    /// (socket.io-client's default connect `timeout`).
    const HANDSHAKE_TIMEOUT_MS: u32 = 20_000;

    /// Builds the CONNECT auth payload.
    pub type AuthFn = Rc<dyn Fn() -> Value>;
    /// Receives `(event name, first argument or Null)`.
    pub type EventFn = Rc<dyn Fn(&str, Value)>;
    /// Receives connection state changes.
    pub type StateFn = Rc<dyn Fn(ConnectionState)>;

    /// Callbacks for [`Realtime::connect`].
    #[derive(Clone)]
    pub struct RealtimeOptions {
        /// Called before every (re)connect to build the CONNECT auth payload, e.g.
        /// `json!({"since": last_seq})`. `Value::Null` sends a bare CONNECT.
        pub auth: AuthFn,
        /// Called for every server event with its name and first argument (or `Null`).
        pub on_event: EventFn,
        /// Called on every connection state change.
        pub on_state: StateFn,
    }

    /// Handle to the live connection. Clones share one connection.
    ///
    /// The connection keeps itself alive (its socket callbacks and timers own it) until
    /// [`Realtime::close`] is called or the server refuses the session; dropping every handle
    /// does *not* close it. Callbacks may call back into the handle (`emit`, `close`).
    #[derive(Clone)]
    pub struct Realtime {
        inner: Rc<Inner>,
    }

    struct Inner {
        options: RealtimeOptions,
        state: RefCell<State>,
    }

    #[derive(Default)]
    struct State {
        /// Bumped per socket; callbacks of older sockets are ignored.
        generation: u64,
        link: Option<Link>,
        reconnect_timer: Option<Timeout>,
        /// Reconnect attempts since the last successful CONNECT.
        attempt: u32,
        /// `close()` was called or the server refused the CONNECT.
        stopped: bool,
    }

    /// One WebSocket and everything whose lifetime is tied to it. The socket's event handler
    /// closures live here (not `forget`-ed): they are detached and dropped with the link, so
    /// each socket costs exactly one set of closures and nothing leaks across reconnects.
    struct Link {
        socket: WebSocket,
        /// The server acknowledged our Socket.IO CONNECT.
        connected: bool,
        /// `pingInterval + pingTimeout` from the open packet.
        ping_deadline_ms: u32,
        /// Fires when the open packet / next ping is overdue.
        heartbeat: Option<Timeout>,
        _on_message: Closure<dyn FnMut(MessageEvent)>,
        _on_close: Closure<dyn FnMut(JsValue)>,
        _on_error: Closure<dyn FnMut(JsValue)>,
    }

    impl Drop for Link {
        fn drop(&mut self) {
            // Detach first so the browser never calls into a dropped closure, then close
            // (a no-op on an already closing/closed socket).
            self.socket.set_onmessage(None);
            self.socket.set_onclose(None);
            self.socket.set_onerror(None);
            let _ = self.socket.close();
        }
    }

    impl Realtime {
        /// Open the connection to `/socket.io/` on the page's origin (`wss://` on https pages)
        /// and keep it open, reconnecting with backoff, until [`Realtime::close`].
        pub fn connect(options: RealtimeOptions) -> Realtime {
            let inner = Rc::new(Inner {
                options,
                state: RefCell::new(State::default()),
            });
            (inner.options.on_state)(ConnectionState::Connecting);
            inner.open_socket();
            Realtime { inner }
        }

        /// Send `42["event",payload]`. Dropped (not queued) unless connected; the server's
        /// state is re-synchronised through the CONNECT auth (`since`) after a reconnect.
        pub fn emit(&self, event: &str, payload: Value) {
            let state = self.inner.state.borrow();
            if let Some(link) = state.link.as_ref().filter(|link| link.connected) {
                let _ = link.socket.send_with_str(&protocol::encode_event(event, payload));
            }
        }

        /// Disconnect and stop reconnecting. Idempotent.
        pub fn close(&self) {
            let (link, timer) = {
                let mut state = self.inner.state.borrow_mut();
                state.stopped = true;
                (state.link.take(), state.reconnect_timer.take())
            };
            if let Some(link) = &link
                && link.connected
            {
                let _ = link.socket.send_with_str(protocol::DISCONNECT);
            }
            // Dropping the link and timer breaks the Rc cycles through their closures.
            drop(link);
            drop(timer);
        }

        /// Whether the Socket.IO session is currently established.
        pub fn is_connected(&self) -> bool {
            self.inner
                .state
                .borrow()
                .link
                .as_ref()
                .is_some_and(|link| link.connected)
        }
    }

    impl Inner {
        fn open_socket(self: &Rc<Self>) {
            if self.state.borrow().stopped {
                return;
            }
            let Some(url) = page_socket_url() else {
                leptos::logging::error!("realtime: no window.location; cannot connect");
                return;
            };
            let socket = match WebSocket::new(&url) {
                Ok(socket) => socket,
                Err(err) => {
                    leptos::logging::warn!("realtime: cannot open {url}: {err:?}");
                    self.schedule_reconnect();
                    return;
                }
            };
            socket.set_binary_type(BinaryType::Arraybuffer);

            let generation = {
                let mut state = self.state.borrow_mut();
                state.generation += 1;
                state.generation
            };

            let on_message = {
                let inner = Rc::clone(self);
                Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                    // Binary frames (attachments) are not used by this app; ignore them.
                    if let Some(text) = event.data().as_string() {
                        inner.handle_frame(generation, &text);
                    }
                })
            };
            let on_close = {
                let inner = Rc::clone(self);
                Closure::<dyn FnMut(JsValue)>::new(move |_event: JsValue| {
                    inner.connection_lost(generation);
                })
            };
            let on_error = {
                let inner = Rc::clone(self);
                Closure::<dyn FnMut(JsValue)>::new(move |_event: JsValue| {
                    inner.connection_lost(generation);
                })
            };
            socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
            socket.set_onerror(Some(on_error.as_ref().unchecked_ref()));

            let link = Link {
                socket,
                connected: false,
                ping_deadline_ms: HANDSHAKE_TIMEOUT_MS,
                heartbeat: Some(self.heartbeat_timer(generation, HANDSHAKE_TIMEOUT_MS)),
                _on_message: on_message,
                _on_close: on_close,
                _on_error: on_error,
            };
            let previous = self.state.borrow_mut().link.replace(link);
            drop(previous);
        }

        /// A timer that declares the socket of `generation` dead after `millis`.
        fn heartbeat_timer(self: &Rc<Self>, generation: u64, millis: u32) -> Timeout {
            let inner = Rc::clone(self);
            Timeout::new(millis, move || inner.connection_lost(generation))
        }

        fn is_current(&self, generation: u64) -> bool {
            let state = self.state.borrow();
            state.generation == generation && state.link.is_some()
        }

        /// (Re)start the liveness deadline of the current socket.
        fn rearm_heartbeat(self: &Rc<Self>, generation: u64) {
            let deadline = match self.state.borrow().link.as_ref() {
                Some(link) => link.ping_deadline_ms,
                None => return,
            };
            let timer = self.heartbeat_timer(generation, deadline);
            let old = {
                let mut state = self.state.borrow_mut();
                match state.link.as_mut() {
                    Some(link) => link.heartbeat.replace(timer),
                    None => None,
                }
            };
            drop(old);
        }

        fn send(&self, text: &str) {
            if let Some(link) = self.state.borrow().link.as_ref() {
                let _ = link.socket.send_with_str(text);
            }
        }

        fn handle_frame(self: &Rc<Self>, generation: u64, text: &str) {
            if !self.is_current(generation) {
                return;
            }
            match protocol::parse_packet(text) {
                Packet::Open {
                    ping_interval_ms,
                    ping_timeout_ms,
                    ..
                } => {
                    if let Some(link) = self.state.borrow_mut().link.as_mut() {
                        link.ping_deadline_ms = ping_interval_ms.saturating_add(ping_timeout_ms);
                    }
                    self.rearm_heartbeat(generation);
                    let auth = (self.options.auth)();
                    if self.is_current(generation) {
                        self.send(&protocol::encode_connect(&auth));
                    }
                }
                Packet::Ping { data } => {
                    self.send(&protocol::encode_pong(&data));
                    self.rearm_heartbeat(generation);
                }
                Packet::Connect { namespace, .. } if namespace == MAIN_NAMESPACE => {
                    {
                        let mut state = self.state.borrow_mut();
                        state.attempt = 0;
                        if let Some(link) = state.link.as_mut() {
                            link.connected = true;
                        }
                    }
                    (self.options.on_state)(ConnectionState::Connected);
                }
                Packet::ConnectError { namespace, message } if namespace == MAIN_NAMESPACE => {
                    let link = {
                        let mut state = self.state.borrow_mut();
                        state.stopped = true;
                        state.link.take()
                    };
                    drop(link);
                    (self.options.on_state)(ConnectionState::Refused(message));
                }
                // The server dropped our namespace session or the whole transport. Reconnect:
                // if the session really is gone, the next CONNECT is refused (`44`).
                Packet::Disconnect { namespace } if namespace == MAIN_NAMESPACE => {
                    self.connection_lost(generation);
                }
                Packet::Close => self.connection_lost(generation),
                // Server events asking for an ack are delivered too; the ack id is ignored.
                Packet::Event { name, payload, .. } => (self.options.on_event)(&name, payload),
                Packet::Invalid(reason) => {
                    leptos::logging::warn!("realtime: ignoring frame ({reason})");
                }
                _ => {}
            }
        }

        /// The socket of `generation` is gone (closed, errored, heartbeat overdue, server
        /// disconnect): drop it and schedule a reconnect. Ignored for stale sockets.
        fn connection_lost(self: &Rc<Self>, generation: u64) {
            if !self.is_current(generation) {
                return;
            }
            let link = self.state.borrow_mut().link.take();
            drop(link);
            self.schedule_reconnect();
        }

        fn schedule_reconnect(self: &Rc<Self>) {
            let attempt = {
                let mut state = self.state.borrow_mut();
                if state.stopped {
                    return;
                }
                state.attempt = state.attempt.saturating_add(1);
                let attempt = state.attempt;
                let delay = protocol::backoff_delay_ms(attempt, js_sys::Math::random());
                let inner = Rc::clone(self);
                let timer = Timeout::new(delay, move || {
                    // Drop our own (already fired) handle; wasm-bindgen defers freeing a
                    // closure that is still running.
                    let fired = inner.state.borrow_mut().reconnect_timer.take();
                    drop(fired);
                    inner.open_socket();
                });
                let old = state.reconnect_timer.replace(timer);
                drop(state);
                drop(old);
                attempt
            };
            (self.options.on_state)(ConnectionState::Reconnecting { attempt });
        }
    }

    fn page_socket_url() -> Option<String> {
        let location = web_sys::window()?.location();
        let page_protocol = location.protocol().ok()?;
        let host = location.host().ok()?;
        Some(protocol::socket_url(&page_protocol, &host))
    }
}

#[cfg(test)]
mod tests {
    use super::protocol::*;
    use serde_json::{Value, json};

    fn event(namespace: &str, ack_id: Option<u64>, name: &str, payload: Value) -> Packet {
        Packet::Event {
            namespace: namespace.to_owned(),
            ack_id,
            name: name.to_owned(),
            payload,
        }
    }

    #[test]
    fn parses_engine_io_open() {
        let open = r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":[],"pingInterval":25000,"pingTimeout":5000,"maxPayload":1000000}"#;
        assert_eq!(
            parse_packet(open),
            Packet::Open {
                sid: "lv_VI97HAXpY6yYWAAAC".to_owned(),
                ping_interval_ms: 25_000,
                ping_timeout_ms: 5_000,
            }
        );
        assert_eq!(
            parse_packet(r#"0{"sid":"x"}"#),
            Packet::Open {
                sid: "x".to_owned(),
                ping_interval_ms: DEFAULT_PING_INTERVAL_MS,
                ping_timeout_ms: DEFAULT_PING_TIMEOUT_MS,
            }
        );
        assert!(matches!(parse_packet("0"), Packet::Invalid(_)));
        assert!(matches!(parse_packet("0[1]"), Packet::Invalid(_)));
    }

    #[test]
    fn parses_engine_io_control_packets() {
        assert_eq!(parse_packet("1"), Packet::Close);
        assert_eq!(parse_packet("2"), Packet::Ping { data: String::new() });
        assert_eq!(
            parse_packet("2probe"),
            Packet::Ping {
                data: "probe".to_owned()
            }
        );
        assert_eq!(parse_packet("3"), Packet::Pong);
        assert_eq!(parse_packet("5"), Packet::Upgrade);
        assert_eq!(parse_packet("6"), Packet::Noop);
        assert!(matches!(parse_packet(""), Packet::Invalid(_)));
        assert!(matches!(parse_packet("7"), Packet::Invalid(_)));
        assert!(matches!(parse_packet("héllo"), Packet::Invalid(_)));
        assert!(matches!(parse_packet("4"), Packet::Invalid(_)));
        assert!(matches!(parse_packet("49"), Packet::Invalid(_)));
    }

    #[test]
    fn encodes_pong() {
        assert_eq!(encode_pong(""), "3");
        assert_eq!(encode_pong("probe"), "3probe");
    }

    #[test]
    fn parses_connect_reply() {
        assert_eq!(
            parse_packet(r#"40{"sid":"wZX3oN0bSVIhsaknAAAI"}"#),
            Packet::Connect {
                namespace: "/".to_owned(),
                sid: Some("wZX3oN0bSVIhsaknAAAI".to_owned()),
            }
        );
        assert_eq!(
            parse_packet(r#"40/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}"#),
            Packet::Connect {
                namespace: "/admin".to_owned(),
                sid: Some("oSO0OpakMV_3jnilAAAA".to_owned()),
            }
        );
        assert_eq!(
            parse_packet("40"),
            Packet::Connect {
                namespace: "/".to_owned(),
                sid: None,
            }
        );
    }

    #[test]
    fn parses_connect_error() {
        assert_eq!(
            parse_packet(r#"44{"message":"Not authorized"}"#),
            Packet::ConnectError {
                namespace: "/".to_owned(),
                message: "Not authorized".to_owned(),
            }
        );
        assert_eq!(
            parse_packet(r#"44/admin,{"message":"nope","data":{"code":1}}"#),
            Packet::ConnectError {
                namespace: "/admin".to_owned(),
                message: "nope".to_owned(),
            }
        );
        // protocol v4 sent a bare string
        assert_eq!(
            parse_packet(r#"44"Not authorized""#),
            Packet::ConnectError {
                namespace: "/".to_owned(),
                message: "Not authorized".to_owned(),
            }
        );
        assert_eq!(
            parse_packet("44"),
            Packet::ConnectError {
                namespace: "/".to_owned(),
                message: "connection refused".to_owned(),
            }
        );
    }

    #[test]
    fn parses_disconnect_and_ack() {
        assert_eq!(
            parse_packet("41"),
            Packet::Disconnect {
                namespace: "/".to_owned()
            }
        );
        assert_eq!(
            parse_packet("41/admin,"),
            Packet::Disconnect {
                namespace: "/admin".to_owned()
            }
        );
        assert_eq!(
            parse_packet("41/admin"),
            Packet::Disconnect {
                namespace: "/admin".to_owned()
            }
        );
        assert_eq!(
            parse_packet("4312[]"),
            Packet::Ack {
                namespace: "/".to_owned(),
                ack_id: Some(12)
            }
        );
        assert_eq!(
            parse_packet(r#"43/admin,13["bar"]"#),
            Packet::Ack {
                namespace: "/admin".to_owned(),
                ack_id: Some(13)
            }
        );
    }

    #[test]
    fn parses_events() {
        assert_eq!(
            parse_packet(r#"42["hey","Jude"]"#),
            event("/", None, "hey", json!("Jude"))
        );
        assert_eq!(parse_packet(r#"42["hello"]"#), event("/", None, "hello", Value::Null));
        assert_eq!(
            parse_packet(r#"42["message",{"seq":7,"body":"hi, there"},"extra"]"#),
            event("/", None, "message", json!({"seq": 7, "body": "hi, there"}))
        );
        assert_eq!(
            parse_packet(r#"42/admin,["bar",[1,2]]"#),
            event("/admin", None, "bar", json!([1, 2]))
        );
        assert_eq!(parse_packet(r#"421["foo",1]"#), event("/", Some(1), "foo", json!(1)));
        assert_eq!(
            parse_packet(r#"42/admin,13["foo"]"#),
            event("/admin", Some(13), "foo", Value::Null)
        );
        assert_eq!(
            parse_packet(r#"42["ünïcödé","€"]"#),
            event("/", None, "ünïcödé", json!("€"))
        );
    }

    #[test]
    fn rejects_malformed_events() {
        for bad in [
            "42",
            "42[]",
            "42[1]",
            r#"42{"a":1}"#,
            r#"42["x""#,
            "42/admin,",
            r#"4299999999999999999999999["x"]"#,
        ] {
            assert!(
                matches!(parse_packet(bad), Packet::Invalid(_)),
                "{bad} should be invalid"
            );
        }
        assert_eq!(
            parse_packet(r#"451-["baz",{"_placeholder":true,"num":0}]"#),
            Packet::Binary
        );
        assert_eq!(parse_packet(r#"461-15["bar"]"#), Packet::Binary);
    }

    #[test]
    fn encodes_events_and_connect() {
        assert_eq!(encode_event("foo", json!("bar")), r#"42["foo","bar"]"#);
        assert_eq!(
            encode_event("typing", json!({"conversation": 3})),
            r#"42["typing",{"conversation":3}]"#
        );
        assert_eq!(encode_event("ping", Value::Null), r#"42["ping",null]"#);
        assert_eq!(encode_connect(&Value::Null), "40");
        assert_eq!(encode_connect(&json!({"since": 42})), r#"40{"since":42}"#);
    }

    #[test]
    fn encoded_events_round_trip() {
        for (name, payload) in [
            ("a\"b\\c,/[]", json!({"x": [1, "two", null]})),
            ("/looks-like-ns", json!("s")),
            ("123", json!(4.5)),
            ("", Value::Null),
        ] {
            let wire = encode_event(name, payload.clone());
            assert_eq!(parse_packet(&wire), event("/", None, name, payload));
        }
    }

    #[test]
    fn builds_socket_url() {
        assert_eq!(
            socket_url("https:", "inbox.example.com"),
            "wss://inbox.example.com/socket.io/?EIO=4&transport=websocket"
        );
        assert_eq!(
            socket_url("http:", "127.0.0.1:3000"),
            "ws://127.0.0.1:3000/socket.io/?EIO=4&transport=websocket"
        );
    }

    #[test]
    fn backoff_doubles_to_a_cap_with_downward_jitter() {
        let delays: Vec<u32> = (1..=7).map(|n| backoff_delay_ms(n, 0.0)).collect();
        assert_eq!(delays, [500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
        assert_eq!(backoff_delay_ms(0, 0.0), 500);
        assert_eq!(backoff_delay_ms(u32::MAX, 0.0), 10_000);
        assert_eq!(backoff_delay_ms(1, 0.5), 450);
        assert_eq!(backoff_delay_ms(40, 0.999_999), 8_000);
        for n in 1..50 {
            for r in [0.0, 0.25, 0.5, 0.75, 0.999] {
                let d = backoff_delay_ms(n, r);
                assert!((400..=10_000).contains(&d), "attempt {n}, r {r}: {d}");
            }
        }
    }
}

//! The page's link to its room, as the components see it: a cheap `Copy` handle over the
//! connection's state signals and, in the browser, the machinery that keeps the connection up.
//!
//! In the browser the link reconnects by itself (exponential backoff with full jitter, at once
//! when the page becomes visible or the browser comes back online), resumes the room's log where
//! it left off, keeps every message the reader sends in an outbox until the server acknowledges
//! it, and pings the server so that a dead connection is noticed. On the server it renders the
//! initial "connecting" state and never connects.

use crate::log::RoomLog;
use crate::names::{MessageText, Nickname, RoomName};
use crate::outbox::{NotQueued, Outbox};
use crate::protocol::{Role, RoomRules, Seq};
use crate::roster::Roster;
use leptos::prelude::*;

/// What the reader sees of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub enum ConnState {
    /// Not connecting: the reader has no nickname yet.
    Idle,
    Connecting,
    Connected,
    Lost,
}

impl ConnState {
    /// The `data-state` attribute value, which tests and styles select on.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Connecting => "connecting",
            Self::Connected => "connected",
            Self::Lost => "lost",
        }
    }
}

#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub struct RoomLink {
    pub room: StoredValue<RoomName>,
    pub log: RwSignal<RoomLog>,
    pub outbox: RwSignal<Outbox>,
    pub state: RwSignal<ConnState>,
    /// The nickname the server bound to this connection (empty until it says).
    pub me: RwSignal<String>,
    /// Who is in the room and who is typing.
    pub roster: RwSignal<Roster>,
    /// Messages that arrived while the page was hidden.
    pub unread: RwSignal<u32>,
    /// Of those, the ones that mention the reader.
    pub mentioned: RwSignal<u32>,
    /// The newest message by someone else, for screen readers.
    pub announcement: RwSignal<String>,
    /// Why the last connection ended, when the server or the browser said.
    pub close_reason: RwSignal<Option<String>>,
    /// An older page of history is on its way.
    pub loading_older: RwSignal<bool>,
    /// Who runs the room, its topic and slow mode.
    pub rules: RwSignal<RoomRules>,
    /// The message the composer answers, if it answers one.
    pub replying: RwSignal<Option<crate::quote::Quote>>,
    /// How far the reader had read the room when the page connected, or has read since on
    /// another device (the server says; this page's own reading does not move it, so that the
    /// "new messages" line stays where the reader found it).
    pub read_mark: RwSignal<Option<Seq>>,
    /// The page is shown (not a background tab).
    pub visible: RwSignal<bool>,
    #[cfg(feature = "hydrate")]
    runtime: StoredValue<runtime::Runtime, LocalStorage>,
}

impl RoomLink {
    /// Creates the link; in the browser it connects once the page is hydrated and the reader
    /// has a nickname (reconnecting when it changes), and tears everything down (socket, timers,
    /// listeners) when the owning component is cleaned up.
    pub fn new(room: RoomName, nickname: Signal<Option<String>>) -> Self {
        let link = Self {
            room: StoredValue::new(room),
            log: RwSignal::new(RoomLog::default()),
            outbox: RwSignal::new(Outbox::default()),
            state: RwSignal::new(if nickname.get_untracked().is_some() {
                ConnState::Connecting
            } else {
                ConnState::Idle
            }),
            me: RwSignal::new(String::new()),
            roster: RwSignal::new(Roster::default()),
            unread: RwSignal::new(0),
            mentioned: RwSignal::new(0),
            announcement: RwSignal::new(String::new()),
            close_reason: RwSignal::new(None),
            loading_older: RwSignal::new(false),
            rules: RwSignal::new(RoomRules::default()),
            replying: RwSignal::new(None),
            read_mark: RwSignal::new(None),
            visible: RwSignal::new(true),
            #[cfg(feature = "hydrate")]
            runtime: StoredValue::new_local(runtime::Runtime::default()),
        };
        #[cfg(feature = "hydrate")]
        {
            // The session's nickname decides who the connection is: the first run starts the
            // link (connecting if there is a nickname), a new nickname means a new connection
            // (the server reads it from the cookie).
            Effect::new(move |previous: Option<Option<String>>| {
                let now = nickname.get();
                match &previous {
                    None => link.start(now.is_some()),
                    Some(before) if *before != now && now.is_some() => link.connect(),
                    Some(_) => {}
                }
                now
            });
            on_cleanup(move || link.runtime.update_value(runtime::Runtime::stop));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = nickname;
        link
    }

    /// Shows the history the page was rendered with. Only into an empty log: the same history
    /// arriving again (a re-render) changes nothing.
    pub fn seed(self, messages: &[crate::protocol::ServerEvent]) {
        if self.log.with_untracked(RoomLog::is_empty) {
            self.log.update_untracked(|log| messages.iter().for_each(|m| log.apply(m)));
        }
    }

    /// Queues `text` for the room: it shows as pending and is sent now if connected, otherwise
    /// as soon as a connection is ready. Refused when too many messages are waiting, or when it
    /// is too large to send at all.
    pub fn send(self, text: MessageText, reply_to: Option<Seq>) -> Result<(), NotQueued> {
        #[cfg(feature = "hydrate")]
        {
            let pending = crate::outbox::Pending { id: crate::client::new_client_id(), text, reply_to };
            let mut queued = Ok(());
            self.outbox.update(|outbox| queued = outbox.push(pending.clone()));
            queued?;
            self.runtime.update_value(|rt| rt.send(&pending));
            Ok(())
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = (text, reply_to);
            Ok(())
        }
    }

    /// Asks the server to edit or delete a message shown: the change shows once it is stored,
    /// for everyone at once; a refusal comes back as a notice. Not kept for later, unlike
    /// messages: `false` when there is no connection to send it on now.
    pub fn change(self, request: crate::protocol::ClientMessage) -> bool {
        #[cfg(feature = "hydrate")]
        {
            self.runtime.try_update_value(|rt| rt.request(&request)).unwrap_or(false)
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = request;
            false
        }
    }

    /// The reader's nickname: the one the server bound to the connection, and until it has, the
    /// session's (so that the server's HTML and the hydrated page mark the same mentions).
    pub fn my_name(self) -> Signal<String> {
        let session = crate::session::use_session();
        Signal::derive(move || {
            let bound = self.me.get();
            if bound.is_empty() {
                session.nickname.get().unwrap_or_default()
            } else {
                bound
            }
        })
    }

    /// The reader's role in the room, as the page shows what it may do (the server decides).
    pub fn my_role(self) -> Role {
        let me = self.me.with(|me| Nickname::parse(me).ok());
        me.map_or(Role::Member, |me| self.rules.with(|rules| rules.role_of(&me)))
    }

    /// The reader is typing: tells the room, at most once every few seconds.
    pub fn typing(self) {
        #[cfg(feature = "hydrate")]
        self.runtime.update_value(runtime::Runtime::typing);
    }

    /// The reader has seen the room up to `seq`: the server keeps it for their other devices (at
    /// most once a second; the newest wins).
    pub fn read_up_to(self, seq: Seq) {
        #[cfg(feature = "hydrate")]
        self.runtime.update_value(|rt| rt.pending_read = rt.pending_read.max(seq));
        #[cfg(feature = "hydrate")]
        self.send_read();
        #[cfg(not(feature = "hydrate"))]
        let _ = seq;
    }

    /// Fetches the page of history before the oldest message shown and puts it above;
    /// `then` runs once it is in the log.
    pub fn load_older(self, then: impl FnOnce() + 'static) {
        #[cfg(feature = "hydrate")]
        {
            let Some(Some(before)) = self.log.with_untracked(|log| log.older_cursor()) else { return };
            if self.loading_older.get_untracked() {
                return;
            }
            self.loading_older.set(true);
            let room = self.room.with_value(|r| r.to_string());
            leptos::task::spawn_local(async move {
                let url = format!("/api/rooms/{room}/messages?before={before}&limit=50");
                let page = match gloo_net::http::Request::get(&url).send().await {
                    Ok(response) if response.ok() => {
                        response.json::<crate::protocol::HistoryPage>().await.ok()
                    }
                    _ => None,
                };
                match page {
                    Some(page) => self.log.update(|log| log.prepend(&page.messages, page.more)),
                    None => self.log.update(|log| {
                        log.push(crate::log::LineKind::Notice {
                            text: "Older messages could not be loaded.".into(),
                        })
                    }),
                }
                self.loading_older.set(false);
                then();
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = then;
    }

    /// Tries again now (the reader asked, or the page came back).
    pub fn reconnect_now(self) {
        #[cfg(feature = "hydrate")]
        if !matches!(self.state.get_untracked(), ConnState::Connected | ConnState::Idle) {
            self.connect();
        }
    }
}

#[cfg(feature = "hydrate")]
mod runtime {
    //! The browser-side machinery behind a [`RoomLink`].

    use super::{ConnState, RoomLink};
    use crate::client::socket::{ChatSocket, Handlers};
    use crate::log::LineKind;
    use crate::outbox::Pending;
    use crate::protocol::{close, ClientMessage, ErrorCode, ServerEvent};
    use leptos::prelude::*;
    use std::time::Duration;

    /// How often the page pings the server while connected.
    const PING_EVERY: Duration = Duration::from_secs(15);
    /// Silence longer than this means the connection is dead. Measured in wall-clock time, so
    /// that a background tab whose timers are throttled to once a minute still judges right.
    const DEAD_AFTER_MS: f64 = 40_000.0;
    /// Typing notices go out at most this often; the server shows "typing" for a few seconds
    /// after each.
    const TYPING_EVERY_MS: f64 = 3_000.0;
    /// How long after a storage failure the pending messages are sent again.
    const STORAGE_RETRY: Duration = Duration::from_secs(3);
    /// Messages older than this when they arrive are history, not news for a screen reader.
    const FRESH_MS: f64 = 30_000.0;
    /// Read marks go out at most this often.
    const READ_EVERY_MS: f64 = 1_000.0;

    #[derive(Default)]
    pub struct Runtime {
        socket: Option<ChatSocket>,
        /// When the last typing notice went out (ms since the epoch).
        last_typing: f64,
        /// Failed attempts since the last successful connection.
        attempt: u32,
        retry: Option<TimeoutHandle>,
        keepalive: Option<IntervalHandle>,
        listeners: Vec<WindowListenerHandle>,
        /// When the server was last heard from (ms since the epoch).
        last_heard: f64,
        next_nonce: u64,
        /// How far the reader has read, to be told to the server; and how far it was told.
        pub(super) pending_read: crate::protocol::Seq,
        read_sent: crate::protocol::Seq,
        /// When a read mark last went out (ms since the epoch), and the timer for the next.
        read_sent_at: f64,
        read_timer: Option<TimeoutHandle>,
    }

    impl Runtime {
        pub fn send(&mut self, pending: &Pending) {
            // The server ends the sender's typing when the message arrives; the next keystroke
            // may start it again at once.
            self.last_typing = 0.0;
            if let Some(socket) = self.socket.as_ref().filter(|s| s.is_open()) {
                // If this fails the message stays in the outbox and goes out on the next connection.
                let _ = socket.send(&pending.request());
            }
        }

        pub fn request(&mut self, request: &ClientMessage) -> bool {
            self.socket.as_ref().filter(|s| s.is_open()).is_some_and(|socket| socket.send(request).is_ok())
        }

        pub fn typing(&mut self) {
            let now = now_ms();
            if now - self.last_typing < TYPING_EVERY_MS {
                return;
            }
            if let Some(socket) = self.socket.as_ref().filter(|s| s.is_open()) {
                if socket.send(&ClientMessage::Typing {}).is_ok() {
                    self.last_typing = now;
                }
            }
        }

        fn cancel_retry(&mut self) {
            if let Some(handle) = self.retry.take() {
                handle.clear();
            }
        }

        /// Everything off: the page is leaving the room.
        pub fn stop(&mut self) {
            self.cancel_retry();
            if let Some(handle) = self.read_timer.take() {
                handle.clear();
            }
            if let Some(handle) = self.keepalive.take() {
                handle.clear();
            }
            for listener in self.listeners.drain(..) {
                listener.remove();
            }
            self.socket = None;
        }
    }

    fn now_ms() -> f64 {
        js_sys::Date::now()
    }

    impl RoomLink {
        /// Once, after hydration: the first connection, the keepalive, the page listeners.
        pub(super) fn start(self, connect: bool) {
            self.visible.set(!document().hidden());
            let keepalive = set_interval_with_handle(move || self.keepalive(), PING_EVERY).ok();
            let listeners = vec![
                window_event_listener_untyped("online", move |_| self.reconnect_now()),
                window_event_listener_untyped("offline", move |_| self.went_offline()),
                window_event_listener_untyped("visibilitychange", move |_| self.became_visible()),
            ];
            self.runtime.update_value(|rt| {
                rt.keepalive = keepalive;
                rt.listeners = listeners;
            });
            if connect {
                self.connect();
            }
        }

        /// (Re)connects, resuming after the last message the log shows.
        pub(super) fn connect(self) {
            // Dropping the previous socket first detaches its handlers, so its close event cannot
            // mark the new connection as lost.
            let reset = self.runtime.try_update_value(|rt| {
                rt.cancel_retry();
                rt.socket = None;
                rt.last_heard = now_ms();
            });
            if reset.is_none() {
                return;
            }
            self.state.set(ConnState::Connecting);
            self.close_reason.set(None);
            let room = self.room.with_value(|r| r.to_string());
            // Who this is comes from the session cookie, which the browser sends by itself.
            let mut query = Vec::new();
            // The server sends exactly what this page missed.
            if let Some((epoch, seq)) = self.log.with_untracked(|log| log.resume_position()) {
                query.push(("after", seq.to_string()));
                query.push(("epoch", epoch.to_string()));
            }
            let Some(url) = crate::client::room_url(&room, &query) else {
                return self.lost(None);
            };
            let handlers = Handlers {
                on_event: Box::new(move |event| self.on_event(event)),
                on_garbage: Box::new(move |text| self.log.update(|log| log.push(LineKind::Notice { text }))),
                on_close: Box::new(move |code, reason| {
                    // The server refused this nickname or room: retrying would not help.
                    let retry = code != close::POLICY;
                    self.lost((!reason.is_empty()).then_some(reason));
                    if retry {
                        self.schedule_retry();
                    }
                }),
            };
            match ChatSocket::connect(&url, handlers) {
                Ok(socket) => self.runtime.update_value(|rt| rt.socket = Some(socket)),
                Err(_) => {
                    self.lost(None);
                    self.schedule_retry();
                }
            }
        }

        fn on_event(self, event: ServerEvent) {
            self.runtime.update_value(|rt| rt.last_heard = now_ms());
            match &event {
                ServerEvent::Ready { you, .. } => {
                    self.me.set(you.to_string());
                    self.state.set(ConnState::Connected);
                    // Everything still unacknowledged goes out again, oldest first, with its
                    // original id: what the server already has is acknowledged, not stored twice.
                    self.runtime.update_value(|rt| {
                        rt.attempt = 0;
                        // A new connection: its server has not been told.
                        rt.read_sent = 0;
                    });
                    self.resend_pending();
                    self.send_read();
                }
                // Storage failed the last message, or slow mode holds it back: the server keeps
                // the connection open, so the pending messages are sent again after a pause
                // (resends are not stored twice).
                ServerEvent::Error { code: ErrorCode::Unavailable | ErrorCode::RateLimited, .. } => {
                    let _ = set_timeout_with_handle(move || self.resend_pending(), STORAGE_RETRY);
                }
                // Timed out: what is pending will not be posted; the notice says until when.
                ServerEvent::Error { code: ErrorCode::TimedOut, .. } => self.outbox.update(|o| o.clear()),
                ServerEvent::Ack { client_id, .. } => self.outbox.update(|o| o.acknowledge(client_id)),
                ServerEvent::Message { id, author, text, at, client_id, deleted: false, .. } => {
                    if let Some(client_id) = client_id {
                        self.outbox.update(|o| o.acknowledge(client_id));
                    }
                    let mine = self.me.with_untracked(|me| me == author.as_str());
                    if !mine && now_ms() - (*at as f64) < FRESH_MS {
                        self.announcement.set(format!("{author}: {text}"));
                        if document().hidden() {
                            // The first to arrive unseen: the "new messages" line goes above it.
                            let seen = self.runtime.with_value(|rt| rt.pending_read);
                            if self.read_mark.get_untracked().is_none_or(|mark| mark < seen) {
                                self.read_mark.set(Some(seen));
                            }
                            self.unread.update(|n| *n += 1);
                            if self.me.with_untracked(|me| crate::mention::mentions(text.as_str(), me)) {
                                self.mentioned.update(|n| *n += 1);
                                let room = self.room.with_value(|r| r.to_string());
                                let line = crate::components::reply::line_id(*id);
                                crate::client::notify::mention(&room, author.as_str(), text.as_str(), &line);
                            }
                        }
                    }
                }
                ServerEvent::Rules { rules, .. } => self.rules.set(rules.clone()),
                ServerEvent::Read { seq, .. } => {
                    self.read_mark.set(Some(*seq));
                    // Read elsewhere up to the end: nothing here is news any more.
                    let newest = self.log.with_untracked(|log| log.resume_position().map(|(_, s)| s));
                    if newest.is_some_and(|newest| *seq >= newest) {
                        self.unread.set(0);
                        self.mentioned.set(0);
                    }
                }
                ServerEvent::Members { .. }
                | ServerEvent::Joined { .. }
                | ServerEvent::Left { .. }
                | ServerEvent::Typing { .. } => self.roster.update(|r| r.apply(&event)),
                _ => {}
            }
            self.log.update(|log| log.apply(&event));
        }

        fn resend_pending(self) {
            let pending: Vec<Pending> = self.outbox.with_untracked(|o| o.iter().cloned().collect());
            self.runtime.update_value(|rt| pending.iter().for_each(|p| rt.send(p)));
        }

        fn lost(self, reason: Option<String>) {
            self.runtime.update_value(|rt| rt.socket = None);
            self.state.set(ConnState::Lost);
            self.close_reason.set(reason);
        }

        fn schedule_retry(self) {
            let attempt = self.runtime.try_update_value(|rt| {
                rt.cancel_retry();
                rt.attempt = rt.attempt.saturating_add(1);
                rt.attempt - 1
            });
            let Some(attempt) = attempt else { return };
            let delay = crate::backoff::delay_ms(attempt, js_sys::Math::random());
            let handle =
                set_timeout_with_handle(move || self.connect(), Duration::from_millis(u64::from(delay))).ok();
            self.runtime.update_value(|rt| rt.retry = handle);
        }

        fn went_offline(self) {
            // Nothing can get through: say so now rather than when a ping times out. Messages
            // typed meanwhile wait in the outbox.
            self.lost(Some("offline".to_owned()));
            self.runtime.update_value(Runtime::cancel_retry);
        }

        /// Tells the server how far the reader has read, now or as soon as a second has passed
        /// since the last time.
        pub(super) fn send_read(self) {
            let now = now_ms();
            let due = self.runtime.try_update_value(|rt| {
                if rt.pending_read <= rt.read_sent || rt.read_timer.is_some() {
                    return None;
                }
                let wait = rt.read_sent_at + READ_EVERY_MS - now;
                if wait > 0.0 {
                    return Some(Err(wait));
                }
                let open = rt.socket.as_ref().filter(|s| s.is_open());
                if let Some(socket) = open {
                    if socket.send(&ClientMessage::Read { seq: rt.pending_read }).is_ok() {
                        rt.read_sent = rt.pending_read;
                        rt.read_sent_at = now;
                    }
                }
                Some(Ok(()))
            });
            if let Some(Some(Err(wait))) = due {
                let handle = set_timeout_with_handle(
                    move || {
                        self.runtime.update_value(|rt| rt.read_timer = None);
                        self.send_read();
                    },
                    Duration::from_millis(wait as u64),
                )
                .ok();
                self.runtime.update_value(|rt| rt.read_timer = handle);
            }
        }

        fn became_visible(self) {
            let visible = document().visibility_state() == web_sys::VisibilityState::Visible;
            self.visible.set(visible);
            if !visible {
                return;
            }
            self.unread.set(0);
            self.mentioned.set(0);
            match self.state.get_untracked() {
                ConnState::Connected => self.keepalive(),
                ConnState::Idle => {}
                _ => self.reconnect_now(),
            }
        }

        /// Pings the server, or gives the connection up when it has been silent too long.
        fn keepalive(self) {
            if self.state.get_untracked() != ConnState::Connected {
                return;
            }
            let dead = self.runtime.with_value(|rt| now_ms() - rt.last_heard > DEAD_AFTER_MS);
            if dead {
                self.lost(Some("no answer from the server".to_owned()));
                self.connect();
                return;
            }
            self.runtime.update_value(|rt| {
                rt.next_nonce += 1;
                if let Some(socket) = rt.socket.as_ref().filter(|s| s.is_open()) {
                    let _ = socket.send(&ClientMessage::Ping { nonce: rt.next_nonce });
                }
            });
        }
    }
}

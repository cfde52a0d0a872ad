//! The page's link to its room, as the components see it: a cheap `Copy` handle over the
//! connection state signals and, in the browser, the one [`ChatSocket`](crate::client::socket)
//! of the page. On the server it renders the initial "connecting" state and never connects.

use crate::log::RoomLog;
use crate::names::{MessageText, RoomName};
use leptos::prelude::*;

/// What the reader sees of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub enum ConnState {
    Connecting,
    Connected,
    Lost,
}

impl ConnState {
    /// The `data-state` attribute value, which tests and styles select on.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Connected => "connected",
            Self::Lost => "lost",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("Not connected: your message was not sent.")]
    NotConnected,
}

#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub struct RoomLink {
    pub room: StoredValue<RoomName>,
    pub log: RwSignal<RoomLog>,
    pub state: RwSignal<ConnState>,
    /// The nickname the server bound to this connection (empty until it says).
    pub me: RwSignal<String>,
    /// Why the last connection ended, when the server said.
    pub close_reason: RwSignal<Option<String>>,
    #[cfg(feature = "hydrate")]
    socket: StoredValue<Option<crate::client::socket::ChatSocket>, LocalStorage>,
}

impl RoomLink {
    /// Creates the link; in the browser it connects once the page is hydrated and disconnects
    /// when the owning component is cleaned up.
    pub fn new(room: RoomName) -> Self {
        let link = Self {
            room: StoredValue::new(room),
            log: RwSignal::new(RoomLog::default()),
            state: RwSignal::new(ConnState::Connecting),
            me: RwSignal::new(String::new()),
            close_reason: RwSignal::new(None),
            #[cfg(feature = "hydrate")]
            socket: StoredValue::new_local(None),
        };
        #[cfg(feature = "hydrate")]
        {
            Effect::new(move |_| link.connect(crate::client::storage::saved_nickname()));
            on_cleanup(move || link.socket.set_value(None));
        }
        link
    }

    /// (Re)connects, asking for `nickname` (the server picks a guest name for `None`).
    #[cfg(feature = "hydrate")]
    pub fn connect(self, nickname: Option<String>) {
        use crate::client::socket::{ChatSocket, Handlers};
        use crate::log::LineKind;
        use crate::protocol::ServerEvent;

        // Dropping the previous socket first detaches its handlers, so its close event cannot
        // mark the new connection as lost.
        self.socket.set_value(None);
        self.state.set(ConnState::Connecting);
        self.close_reason.set(None);
        let room = self.room.with_value(|r| r.to_string());
        let mut query = Vec::new();
        if let Some(name) = nickname {
            query.push(("name", name));
        }
        // Resume where the log left off: the server sends exactly what this page missed.
        if let Some((epoch, seq)) = self.log.with_untracked(|log| log.resume_position()) {
            query.push(("after", seq.to_string()));
            query.push(("epoch", epoch.to_string()));
        }
        let Some(url) = crate::client::room_url(&room, &query) else {
            self.state.set(ConnState::Lost);
            return;
        };
        let handlers = Handlers {
            on_open: Box::new(|| {}),
            on_event: Box::new(move |event| {
                if let ServerEvent::Ready { you, .. } = &event {
                    self.me.set(you.to_string());
                    self.state.set(ConnState::Connected);
                }
                self.log.update(|log| log.apply(&event));
            }),
            on_garbage: Box::new(move |text| self.log.update(|log| log.push(LineKind::Notice { text }))),
            on_close: Box::new(move |_code, reason| {
                self.state.set(ConnState::Lost);
                self.close_reason.set((!reason.is_empty()).then_some(reason));
            }),
        };
        match ChatSocket::connect(&url, handlers) {
            Ok(socket) => self.socket.set_value(Some(socket)),
            Err(_) => self.state.set(ConnState::Lost),
        }
    }

    #[cfg(not(feature = "hydrate"))]
    pub fn connect(self, _nickname: Option<String>) {}

    /// Sends `text` to the room; the message shows in the log when the server relays it back.
    pub fn send(self, text: MessageText) -> Result<(), SendError> {
        #[cfg(feature = "hydrate")]
        {
            use crate::protocol::ClientMessage;
            let message = ClientMessage::Send { id: crate::client::new_client_id(), text };
            let sent = self.socket.with_value(|socket| match socket {
                Some(s) if s.is_open() => s.send(&message).is_ok(),
                _ => false,
            });
            if sent {
                Ok(())
            } else {
                Err(SendError::NotConnected)
            }
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = text;
            Err(SendError::NotConnected)
        }
    }
}

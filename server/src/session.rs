//! One room connection, from the greeting to the goodbye: reads the client's frames, publishes
//! what it says to the room, and writes the room's events back in the room's order.
//!
//! Written against any `Stream + Sink` of WebSocket messages, so it is the same code whatever
//! the transport underneath.

use crate::codec::{json, plain, Dialect};
use crate::config::Limits;
use crate::room::{Action, Room, RoomEvent};
use crate::rooms::Membership;
use app::names::{MessageText, Nickname};
use app::protocol::{ClientMessage, ErrorCode, ServerEvent, PROTOCOL_VERSION};
use axum::extract::ws::{close_code, CloseFrame, Message};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use std::sync::Arc;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio_util::sync::CancellationToken;

/// Close code for a member that fell behind its room's backlog: "try again later" (RFC 6455's
/// registry), which a client answers by reconnecting.
pub const CLOSE_TOO_SLOW: u16 = 1013;

/// Why a session ended.
#[derive(Debug)]
enum End {
    /// The client closed, or the connection dropped: announce the logout.
    Gone,
    /// The client sent `quit`: the logout was announced already.
    Quit,
    /// The server is shutting down.
    Shutdown,
    /// The client broke a rule; close with this code and reason, then announce the logout.
    Refused(u16, String),
    /// The client fell behind the room's backlog by this many events.
    Lagged(u64),
}

pub struct Session<S> {
    socket: S,
    dialect: Dialect,
    name: Nickname,
    membership: Membership,
    limits: Arc<Limits>,
    shutdown: CancellationToken,
}

impl<S> Session<S>
where
    S: Stream<Item = Result<Message, axum::Error>> + Sink<Message, Error = axum::Error> + Unpin,
{
    pub fn new(
        socket: S,
        dialect: Dialect,
        name: Nickname,
        membership: Membership,
        limits: Arc<Limits>,
        shutdown: CancellationToken,
    ) -> Self {
        Self { socket, dialect, name, membership, limits, shutdown }
    }

    pub async fn run(mut self) {
        let room = Arc::clone(self.membership.room());
        if self.dialect == Dialect::Json {
            let ready = ServerEvent::Ready {
                protocol: PROTOCOL_VERSION,
                room: room.name().clone(),
                you: self.name.clone(),
            };
            if self.socket.send(Message::Text(json::encode(&ready))).await.is_err() {
                return;
            }
        }
        room.publish(Action::Join(self.name.clone()));
        let end = self.serve(&room).await;
        tracing::debug!(?end, "session ended");
        match end {
            End::Gone => {
                room.publish(Action::Leave(self.name.clone()));
            }
            End::Quit => self.close(close_code::NORMAL, "bye").await,
            End::Shutdown => self.close(close_code::AWAY, "server shutting down").await,
            End::Refused(code, reason) => {
                room.publish(Action::Leave(self.name.clone()));
                self.close(code, &reason).await;
            }
            End::Lagged(missed) => {
                room.publish(Action::Leave(self.name.clone()));
                let reason = format!("too slow: missed {missed} messages, reconnect");
                self.close(CLOSE_TOO_SLOW, &reason).await;
            }
        }
    }

    async fn serve(&mut self, room: &Room) -> End {
        loop {
            tokio::select! {
                biased;
                () = self.shutdown.cancelled() => return End::Shutdown,
                event = self.membership.events().recv() => match event {
                    Ok(event) => {
                        if let Err(end) = self.forward(event).await {
                            return end;
                        }
                    }
                    Err(RecvError::Lagged(missed)) => return End::Lagged(missed),
                    // The room outlives its members, so this cannot happen while we hold one.
                    Err(RecvError::Closed) => return End::Gone,
                },
                inbound = self.socket.next() => match inbound {
                    None => return End::Gone,
                    Some(Err(err)) => {
                        tracing::debug!(%err, "read failed");
                        return End::Gone;
                    }
                    Some(Ok(message)) => {
                        if let Some(end) = self.on_message(room, message).await {
                            return end;
                        }
                    }
                },
            }
        }
    }

    /// Writes `first` and whatever else is already queued, then flushes once.
    async fn forward(&mut self, first: Arc<RoomEvent>) -> Result<(), End> {
        self.socket.feed(self.encode(&first)).await.map_err(|_| End::Gone)?;
        for _ in 1..self.limits.write_batch {
            match self.membership.events().try_recv() {
                Ok(event) => {
                    let frame = self.encode(&event);
                    self.socket.feed(frame).await.map_err(|_| End::Gone)?;
                }
                Err(TryRecvError::Lagged(missed)) => return Err(End::Lagged(missed)),
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
        self.socket.flush().await.map_err(|_| End::Gone)
    }

    fn encode(&self, event: &RoomEvent) -> Message {
        Message::Text(match self.dialect {
            Dialect::Plain => event.plain.clone(),
            Dialect::Json => event.json.clone(),
        })
    }

    async fn on_message(&mut self, room: &Room, message: Message) -> Option<End> {
        match (self.dialect, message) {
            (Dialect::Plain, Message::Text(text)) => match plain::parse(text.as_str()) {
                plain::Command::Say(text) => self.say(room, text),
                plain::Command::Quit => return Some(self.quit(room).await),
                plain::Command::Nothing => None,
                plain::Command::TooLong => Some(End::Refused(
                    close_code::SIZE,
                    format!("message too long: at most {} bytes", MessageText::MAX_BYTES),
                )),
            },
            (Dialect::Json, Message::Text(text)) => match json::decode(text.as_str()) {
                Ok(ClientMessage::Send { text }) => self.say(room, text),
                Err(error) => self.reply(&error).await,
            },
            (Dialect::Plain, Message::Binary(_)) => {
                Some(End::Refused(close_code::UNSUPPORTED, "binary messages are not supported".into()))
            }
            (Dialect::Json, Message::Binary(_)) => {
                let error = ServerEvent::Error {
                    code: ErrorCode::Unsupported,
                    message: "binary messages are not supported: send JSON text".into(),
                };
                self.reply(&error).await
            }
            (_, Message::Close(_)) => {
                // Sends the close reply the protocol layer has queued.
                let _ = self.socket.flush().await;
                Some(End::Gone)
            }
            // Pings are answered by the protocol layer; pongs need no answer.
            (_, Message::Ping(_) | Message::Pong(_)) => None,
        }
    }

    fn say(&self, room: &Room, text: MessageText) -> Option<End> {
        room.publish(Action::Say(self.name.clone(), text));
        None
    }

    async fn reply(&mut self, event: &ServerEvent) -> Option<End> {
        self.socket.send(Message::Text(json::encode(event))).await.err().map(|_| End::Gone)
    }

    /// Announces the logout, and keeps delivering until this client has seen its own
    /// `<name> Logout` line, as the seeds' room sends it to everyone before closing.
    async fn quit(&mut self, room: &Room) -> End {
        let logout = room.publish(Action::Leave(self.name.clone()));
        let grace = self.limits.close_grace;
        loop {
            match tokio::time::timeout(grace, self.membership.events().recv()).await {
                Ok(Ok(event)) => {
                    let seq = event.seq;
                    if self.socket.feed(self.encode(&event)).await.is_err() || seq >= logout {
                        break;
                    }
                }
                _ => break,
            }
        }
        let _ = self.socket.flush().await;
        End::Quit
    }

    /// Sends a close frame and waits, briefly, for the peer's reply.
    async fn close(&mut self, code: u16, reason: &str) {
        let frame = CloseFrame { code, reason: truncate_reason(reason).into() };
        if self.socket.send(Message::Close(Some(frame))).await.is_ok() {
            let drain = async { while let Some(Ok(_)) = self.socket.next().await {} };
            let _ = tokio::time::timeout(self.limits.close_grace, drain).await;
        }
    }
}

/// A close frame's reason must fit in 123 bytes (RFC 6455, 5.5.1): cut at a char boundary.
pub fn truncate_reason(reason: &str) -> &str {
    const MAX: usize = 123;
    if reason.len() <= MAX {
        return reason;
    }
    let mut end = MAX;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reasons_fit_a_control_frame() {
        assert_eq!(truncate_reason("short"), "short");
        let long = "é".repeat(100);
        let cut = truncate_reason(&long);
        assert!(cut.len() <= 123);
        assert_eq!(cut.len(), 122);
    }
}

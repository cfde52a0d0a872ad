//! What a connection's frames mean in its dialect, and what the session does with them: store
//! a message (and answer `ack` or why not), relay a frame, show typing, answer a ping, leave.

use super::{End, Session};
use crate::clock::now_millis;
use crate::codec::{json, plain, tornado, Dialect};
use crate::rooms::Room;
use crate::store::{Alteration, NewChange, NewMessage, Refusal as ChangeRefusal, WriteError};
use crate::ws::{Frame, Inbound, Refusal};
use app::names::{ClientId, MessageText};
use app::protocol::{ClientMessage, ErrorCode, Role, Seq, ServerEvent};
use app::reactions::ReactionRefusal;
use std::sync::Arc;

impl Session {
    pub(super) async fn on_message(&mut self, room: &Room, message: Inbound) -> Option<End> {
        match (self.dialect, message) {
            (Dialect::Plain(_), Inbound::Text(text)) => match plain::parse(&text) {
                plain::Command::Say(text) => self.say_plain(room, text).await,
                plain::Command::Quit => Some(self.quit().await),
                plain::Command::Nothing => None,
                plain::Command::TooLong => Some(too_long()),
                // Not stored, and the dialect has no error line: the close says why (1007: the
                // text is not what a message may hold).
                plain::Command::Refused(why) => {
                    Some(End::Refused(Refusal::invalid(format!("refused: {why}"))))
                }
            },
            (Dialect::Tornado, Inbound::Text(text)) => match tornado::parse(&text) {
                tornado::Command::Say(text) => self.say_plain(room, text).await,
                tornado::Command::Nothing => None,
                tornado::Command::TooLong => Some(too_long()),
                tornado::Command::Refused(why) => {
                    Some(End::Refused(Refusal::invalid(format!("refused: {why}"))))
                }
            },
            (Dialect::Json, Inbound::Text(text)) => match json::decode(&text) {
                Ok(ClientMessage::Send { id, text, reply_to }) => {
                    crate::metrics::get().messages_received.inc();
                    if let Some(end) = self.admit_message().await {
                        return Some(end);
                    }
                    if let Err(too_fast) = self.take_room() {
                        let error = ServerEvent::Error {
                            code: ErrorCode::RateLimited,
                            message: too_fast.to_string(),
                        };
                        return self.reply(&error).await;
                    }
                    if let Err(not_now) = self.may_post(room) {
                        return self
                            .reply(&ServerEvent::Error { code: not_now.code, message: not_now.why })
                            .await;
                    }
                    let stored = self.store_message(room, text, Some(id.clone()), reply_to).await;
                    self.reply(&json_reply(id, stored)).await
                }
                Ok(ClientMessage::Edit { target, text }) => {
                    self.change_message(room, target, Alteration::Edit(text)).await
                }
                Ok(ClientMessage::Delete { target }) => {
                    self.change_message(room, target, Alteration::Delete).await
                }
                Ok(ClientMessage::React { target, emoji, on }) => {
                    self.change_message(room, target, Alteration::React { emoji, on }).await
                }
                Ok(ClientMessage::Moderate { action }) => self.moderate(room, action).await,
                Ok(ClientMessage::Read { seq }) => {
                    self.mark_read(room, seq).await;
                    None
                }
                Ok(ClientMessage::Ping { nonce }) => self.reply(&ServerEvent::Pong { nonce }).await,
                Ok(ClientMessage::Typing {}) => {
                    self.membership.room().typing(&self.identity.nickname, self.deps.limits.typing_ttl);
                    None
                }
                Err(error) => self.reply(&error).await,
            },
            (Dialect::Relay, Inbound::Text(text)) => {
                if let Some(end) = self.admit_message().await {
                    return Some(end);
                }
                self.membership.room().relay(Frame::text(&text));
                None
            }
            (Dialect::Relay, Inbound::Binary(data)) => {
                if let Some(end) = self.admit_message().await {
                    return Some(end);
                }
                self.membership.room().relay(Frame::binary(&data));
                None
            }
            (Dialect::Plain(_) | Dialect::Tornado, Inbound::Binary(_)) => {
                Some(End::Refused(Refusal::unsupported("binary messages are not supported")))
            }
            (Dialect::Json, Inbound::Binary(_)) => {
                let error = ServerEvent::Error {
                    code: ErrorCode::Unsupported,
                    message: "binary messages are not supported: send JSON text".into(),
                };
                self.reply(&error).await
            }
            (_, Inbound::Close(status)) => {
                // The closing handshake's reply echoes the client's code (RFC 6455, 5.5.1).
                let reply = match status {
                    Some((code, _)) => Frame::close(code, ""),
                    None => Frame::close_empty(),
                };
                let _ = self.send(&reply).await;
                Some(End::Gone)
            }
            (_, Inbound::Ping(payload)) => self.send(&Frame::pong(&payload)).await.err(),
            (_, Inbound::Pong) => None,
        }
    }

    /// A plain (or Tornado) client's message, within the flood control and the quotas, stored;
    /// the dialect has no error line, so a close with the reason is the only way to say that it
    /// was not.
    pub(super) async fn say_plain(&mut self, room: &Room, text: MessageText) -> Option<End> {
        crate::metrics::get().messages_received.inc();
        if let Some(end) = self.admit_message().await {
            return Some(end);
        }
        if let Err(too_fast) = self.take_room() {
            return Some(End::Refused(Refusal::policy(too_fast.to_string())));
        }
        // The dialect has no error line: the close says why.
        if let Err(not_now) = self.may_post(room) {
            return Some(End::Refused(Refusal::policy(not_now.why)));
        }
        let stored = self.store_message(room, text, None, None).await;
        stored.err().map(|err| End::Refused(plain_refusal(err)))
    }

    /// Stores a message; the writer publishes it to the room once it is durable.
    pub(super) async fn store_message(
        &mut self,
        room: &Room,
        text: MessageText,
        client_id: Option<ClientId>,
        reply_to: Option<Seq>,
    ) -> Result<Seq, WriteError> {
        let message = NewMessage {
            room: room.name().clone(),
            author: self.identity.nickname.clone(),
            session: self.identity.session,
            text,
            at: now_millis(),
            client_id,
            reply_to,
        };
        Ok(self.deps.writer.append(message).await?.message().seq)
    }

    /// Edits or deletes a message, within the same flood control as sending one. Everyone in the
    /// room, this client included, is shown the change once it is stored; only a refusal is
    /// answered here.
    async fn change_message(&mut self, room: &Room, target: Seq, alteration: Alteration) -> Option<End> {
        if let Some(end) = self.admit_message().await {
            return Some(end);
        }
        let change = NewChange {
            room: room.name().clone(),
            by: self.identity.nickname.clone(),
            session: self.identity.session,
            target,
            moderator: matches!(alteration, Alteration::Delete) && self.role(room) >= Role::Moderator,
            alteration,
            at: now_millis(),
        };
        match self.deps.writer.change(change).await {
            // Already so: the reader's page shows it that way already.
            Ok(Ok(_)) | Ok(Err(ChangeRefusal::Reaction(ReactionRefusal::Unchanged))) => None,
            Ok(Err(refusal)) => self.reply(&change_refused(refusal)).await,
            Err(err) => {
                self.reply(&ServerEvent::Error { code: ErrorCode::Unavailable, message: err.to_string() })
                    .await
            }
        }
    }

    /// Announces the logout, and sends it to this client too, as the seeds' room sends
    /// `<name> Logout` to everyone before closing. (When the member stays through another
    /// connection nothing is announced: the line goes to this one alone.)
    pub(super) async fn quit(&mut self) -> End {
        let room = Arc::clone(self.membership.room());
        let logout = self.plain_line(&plain::logout(&self.identity.nickname));
        if !room.exit(&self.identity, None) {
            let _ = self.send(&logout).await;
            return End::Quit;
        }
        // The room wrote the announcement to this member with everyone else's, unless it was
        // catching up: then it is in what the room kept, or was missed and is sent here.
        if !self.member().is_live() {
            match self.catch_up(&room).await {
                Ok(true) => self.member().queue(&logout),
                Ok(false) => {}
                Err(end) => return end,
            }
        }
        let _ = self.flush().await;
        End::Quit
    }
}

/// A message longer than chat text may be, from a dialect without an error line.
fn too_long() -> End {
    End::Refused(Refusal::too_big(format!("message too long: at most {} bytes", MessageText::MAX_BYTES)))
}

/// What a JSON client is told of its message: `ack` with the number it was stored under, or
/// why not. A message the store refused for what it holds is a bad request (sending it again
/// will not help); anything else is worth sending again later.
fn json_reply(client_id: ClientId, stored: Result<Seq, WriteError>) -> ServerEvent {
    match stored {
        Ok(id) => ServerEvent::Ack { client_id, id },
        Err(err) => {
            let code = match err {
                WriteError::Refused => ErrorCode::BadRequest,
                WriteError::Unavailable | WriteError::Full | WriteError::Stopped => ErrorCode::Unavailable,
            };
            ServerEvent::Error { code, message: err.to_string() }
        }
    }
}

/// What a JSON client is told of a change that was not allowed.
pub(crate) fn change_refused(refusal: ChangeRefusal) -> ServerEvent {
    let code = match refusal {
        ChangeRefusal::NotFound => ErrorCode::NotFound,
        ChangeRefusal::NotYoursToEdit
        | ChangeRefusal::NotYoursToDelete
        | ChangeRefusal::Reaction(ReactionRefusal::Full) => ErrorCode::Forbidden,
        ChangeRefusal::Reaction(ReactionRefusal::Unchanged) => ErrorCode::BadRequest,
    };
    ServerEvent::Error { code, message: refusal.to_string() }
}

/// How a plain client, which has no error line, learns that its message was not stored: a
/// close that says why, 1008 if sending it again will not help, 1013 if it may later.
fn plain_refusal(err: WriteError) -> Refusal {
    match err {
        WriteError::Refused => Refusal::policy(err.to_string()),
        WriteError::Unavailable | WriteError::Full | WriteError::Stopped => {
            Refusal::try_again(err.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::protocol::close;

    fn id() -> ClientId {
        ClientId::parse("c1").expect("a client id")
    }

    #[test]
    fn a_stored_message_is_acknowledged_with_its_number() {
        assert_eq!(json_reply(id(), Ok(7)), ServerEvent::Ack { client_id: id(), id: 7 });
    }

    #[test]
    fn only_a_refused_message_is_a_bad_request_the_rest_may_be_sent_again() {
        let code = |err| match json_reply(id(), Err(err)) {
            ServerEvent::Error { code, .. } => code,
            other => panic!("expected an error, got {other:?}"),
        };
        assert_eq!(code(WriteError::Refused), ErrorCode::BadRequest);
        for err in [WriteError::Unavailable, WriteError::Full, WriteError::Stopped] {
            assert_eq!(code(err), ErrorCode::Unavailable, "{err:?}");
        }
        assert_eq!(plain_refusal(WriteError::Refused).code, close::POLICY);
        for err in [WriteError::Unavailable, WriteError::Full, WriteError::Stopped] {
            assert_eq!(plain_refusal(err).code, close::TRY_AGAIN, "{err:?}");
            assert_eq!(plain_refusal(err).reason, err.to_string(), "the close says why");
        }
    }
}

//! A connection's greeting and catch-up: `ready` and the member list (JSON), the history it
//! asked for or the room's recent messages, then everything the room published meanwhile,
//! read from the log until the member can go live. The same catch-up serves a member that
//! fell behind the room later.

use super::{unavailable, End, Resume, Session};
use crate::codec::{json, plain, tornado, Dialect};
use crate::rooms::{Room, RoomEvent};
use crate::store::{Position, StoredMessage};
use crate::ws::{Frame, Refusal};
use app::protocol::{Seq, ServerEvent, PROTOCOL_VERSION};

impl Session {
    /// Sends `ready` (JSON) and the history the client asked for: everything after its resume
    /// position, or the room's recent messages. The room keeps what it publishes meanwhile for
    /// this member, so nothing is missed; what both deliver is skipped by sequence number.
    ///
    /// The member's join was announced already (unless `first` is false: another connection of
    /// the same session is in the room), so it arrives after the history, as in the seeds.
    pub(super) async fn greet(
        &mut self,
        room: &Room,
        first: bool,
        resume: Option<Resume>,
    ) -> Result<(), End> {
        let position = self.deps.store.position(room.name()).await.map_err(unavailable)?;
        self.room_is_new = position.epoch == 0;
        if self.dialect == Dialect::Tornado {
            self.send(&tornado::uid()).await?;
        }
        if self.dialect == Dialect::Json {
            let ready = ServerEvent::Ready {
                protocol: PROTOCOL_VERSION,
                room: room.name().clone(),
                you: self.identity.nickname.clone(),
                epoch: position.epoch,
                seq: position.seq,
            };
            self.send_event(&ready).await?;
            let members = ServerEvent::Members { room: room.name().clone(), names: room.members() };
            self.send_event(&members).await?;
            // Only for a room someone runs, or with rules set: the rest have none to show.
            if let Some(state) = room.moderation().current().filter(|s| s.rules != Default::default()) {
                self.send_event(&ServerEvent::Rules {
                    room: room.name().clone(),
                    rules: state.rules.clone(),
                })
                .await?;
            }
            // Where the reader left the room, on this device or another: the page opens there.
            match self.deps.store.read_mark(self.identity.session, room.name()).await {
                Ok(Some(seq)) => {
                    self.send_event(&ServerEvent::Read { room: room.name().clone(), seq }).await?
                }
                Ok(None) => {}
                // Not worth refusing the connection for: it opens at the end.
                Err(err) => tracing::warn!(%err, "reading a read mark failed"),
            }
        }
        self.send_history_for(room, position, resume).await?;
        if !first && self.dialect.is_plain() {
            // The seeds greet every connection; the room announced this member only once.
            self.member().queue(&self.plain_line(&plain::welcome(&self.identity.nickname)));
        }
        self.catch_up(room).await.map(|_| ())
    }

    pub(super) async fn send_history_for(
        &mut self,
        room: &Room,
        position: Position,
        resume: Option<Resume>,
    ) -> Result<(), End> {
        match resume {
            // The log after it is read by the catch-up that follows.
            Some(resume) if resume.holds(position) => {
                self.member().start_after(resume.after);
                Ok(())
            }
            Some(_) => {
                self.send_event(&ServerEvent::Reset { epoch: position.epoch }).await?;
                self.send_recent(room, position).await
            }
            None => self.send_recent(room, position).await,
        }
    }

    pub(super) async fn send_recent(&mut self, room: &Room, position: Position) -> Result<(), End> {
        let recent = self.deps.store.read_before(room.name(), None, self.deps.limits.history_on_join).await;
        let recent = recent.map_err(unavailable)?;
        self.member().start_after(recent.first().map_or(position.seq, |m| m.seq.saturating_sub(1)));
        self.send_logged(&recent).await?;
        // The page shows each message as it reads now: the changes numbered up to the position
        // read before it are in it already, and are not sent again.
        let shown = recent.last().map_or(0, |m| m.seq);
        self.member().start_after(shown.max(position.seq));
        Ok(())
    }

    /// Sends every stored message after the last one delivered, then turns the member live with
    /// what the room kept for it meanwhile. Presence it missed on the way is made good: a JSON
    /// client gets the members again, a plain newcomer its own welcome. Returns whether it had
    /// missed anything.
    pub(super) async fn catch_up(&mut self, room: &Room) -> Result<bool, End> {
        let mut lost = false;
        loop {
            let (mut after, missed) = self.member().begin_catch_up();
            lost |= missed;
            loop {
                let page = self.deps.store.read_after(room.name(), after, self.deps.limits.replay_page).await;
                let page = page.map_err(unavailable)?;
                self.send_logged(&page).await?;
                match page.last() {
                    Some(last) if page.len() >= self.deps.limits.replay_page as usize => after = last.seq,
                    _ => break,
                }
            }
            if missed {
                tracing::debug!("fell behind the room; caught up from the log");
                crate::metrics::get().caught_up.inc();
                match self.dialect {
                    Dialect::Json => {
                        let members =
                            ServerEvent::Members { room: room.name().clone(), names: room.members() };
                        self.member().queue(&json::encode(&members));
                    }
                    _ if self.welcome_pending => {
                        self.welcome_pending = false;
                        self.member().queue(&self.plain_line(&plain::welcome(&self.identity.nickname)));
                    }
                    _ => {}
                }
            }
            if self.member().go_live() {
                // Its own join was published before the first catch-up began: unless it was
                // missed (and sent above), it was among what the room kept.
                self.welcome_pending = false;
                self.flush().await?;
                return Ok(lost);
            }
        }
    }

    /// Queues messages read from the log (those not delivered yet), and flushes.
    pub(super) async fn send_logged(&mut self, messages: &[StoredMessage]) -> Result<(), End> {
        let frames: Vec<(Seq, Option<Frame>)> =
            messages.iter().map(|m| (m.seq, self.logged_frame(m))).collect();
        self.member().queue_logged(frames.iter().map(|(seq, frame)| (*seq, frame.as_ref())));
        self.flush().await
    }

    /// A stored entry in this connection's dialect, if it shows it.
    pub(super) fn logged_frame(&self, stored: &StoredMessage) -> Option<Frame> {
        RoomEvent::logged(stored, self.dialect)
    }

    /// One of the plain dialect's lines, written as this connection's lines are.
    pub(super) fn plain_line(&self, line: &str) -> Frame {
        RoomEvent::line(line, self.dialect)
    }

    /// The member fell behind the room. Chat dialects re-read what they missed from the log, so
    /// nothing is lost and memory stays bounded; relayed frames are not kept anywhere, so a relay
    /// connection that falls behind is closed and told why.
    pub(super) async fn behind(&mut self, room: &Room, missed: u64) -> Result<(), End> {
        if self.dialect == Dialect::Relay {
            tracing::debug!(missed, "relay connection fell behind");
            return Err(End::Refused(Refusal::try_again(format!(
                "too slow: {missed} relayed frames missed"
            ))));
        }
        // Drained first: the log is read from the last message the client was given.
        self.flush().await?;
        self.catch_up(room).await.map(|_| ())
    }
}

//! One room: a total order of events, their fan-out to every member, and its presence.
//!
//! Each event is encoded once per dialect when it is published and queued for every member
//! under the room's one lock, so every member sees the events in the same order. The room then
//! writes to its members' sockets itself: the tasks serving the members are not woken for any of
//! it (see [`Member`]), in writing passes (see [`super::passes`]).
//!
//! Messages are published by the writer only, after they are stored, in sequence order.
//! Presence (joins, leaves, typing) is decided here under the same lock; it is not stored.

use super::federation::{DynFederation, NodeId};
use super::moderation::RoomModeration;
use super::presence::{Change, Exit, Held, NameTaken, Presence};
use super::{Member, RoomEvent};
use crate::identity::{Identity, SessionId};
use crate::store::{Body, Record, StoredMessage, Subject};
use crate::ws::Frame;
use app::names::{Nickname, RoomName};
use app::protocol::Action;
use app::protocol::Seq;
use futures_util::future::BoxFuture;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug)]
pub struct Room {
    name: RoomName,
    inner: Mutex<Inner>,
    /// The other nodes sharing the room, if any.
    federation: Option<DynFederation>,
    moderation: RoomModeration,
}

#[derive(Debug, Default)]
pub(super) struct Inner {
    presence: Presence,
    pub(super) members: Vec<Arc<Member>>,
    /// Members with frames queued for the next writing pass.
    pub(super) dirty: Vec<Arc<Member>>,
    /// A writing pass is on its way.
    pub(super) writing: bool,
    /// When the next pass may begin, once the last has ended.
    pub(super) next_pass: Option<Instant>,
}

impl Inner {
    /// Gives every member `events`: written `now`, or queued for the next writing pass.
    fn fan_out(&mut self, events: &[Arc<RoomEvent>], now: bool) {
        let Self { members, dirty, .. } = self;
        crate::metrics::get().deliveries.inc_by((members.len() * events.len()) as u64);
        for member in members.iter() {
            if member.deliver(events, now) {
                dirty.push(Arc::clone(member));
            }
        }
    }

    fn announce(&mut self, room: &RoomName, changes: Vec<Change>) {
        if changes.is_empty() {
            return;
        }
        let events: Vec<_> =
            changes.into_iter().map(|change| Arc::new(RoomEvent::presence(room, change))).collect();
        self.fan_out(&events, false);
    }
}

impl Room {
    pub fn new(name: RoomName) -> Self {
        Self { name, inner: Mutex::default(), federation: None, moderation: RoomModeration::default() }
    }

    /// A room shared with other nodes: it starts with the members they hold in it.
    pub fn federated(name: RoomName, federation: DynFederation) -> Self {
        let mut presence = Presence::default();
        for hold in federation.holds_in(&name) {
            presence.hold_remote(hold.node, &hold.name, hold.session);
        }
        let inner = Inner { presence, ..Inner::default() };
        Self {
            name,
            inner: Mutex::new(inner),
            federation: Some(federation),
            moderation: RoomModeration::default(),
        }
    }

    /// Tells the other nodes what this one started or stopped holding; under the lock, so in
    /// the order it happened.
    fn federate(&self, inner: &mut Inner) {
        let held = inner.presence.take_held();
        let Some(federation) = &self.federation else { return };
        for change in held {
            match change {
                Held::Hold(name, session) => federation.held(&self.name, &name, session),
                Held::Release(name, session) => federation.released(&self.name, &name, session),
            }
        }
    }

    pub fn name(&self) -> &RoomName {
        &self.name
    }

    /// Its rules and sanctions.
    pub fn moderation(&self) -> &RoomModeration {
        &self.moderation
    }

    pub(super) fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The server is shutting down: every member's session is told.
    pub(crate) fn shut_down(&self) {
        for member in &self.inner().members {
            member.shut_down();
        }
    }

    /// Adds a member: it is given every event published from now on.
    pub(crate) fn add(&self, member: Arc<Member>) {
        self.inner().members.push(member);
    }

    /// Removes a member; returns how many are left.
    pub(crate) fn remove(&self, member: &Arc<Member>) -> usize {
        let mut inner = self.inner();
        if let Some(at) = inner.members.iter().position(|m| Arc::ptr_eq(m, member)) {
            inner.members.swap_remove(at);
        }
        inner.members.len()
    }

    /// Members present now, by name.
    pub fn members(&self) -> Vec<Nickname> {
        self.inner().presence.names()
    }

    /// The person named `name` in the room: their session, and where their connections to this
    /// node come from.
    pub fn person_named(&self, name: &Nickname) -> Option<(SessionId, Vec<crate::identity::AddressKey>)> {
        let inner = self.inner();
        let session = inner.presence.session_of(name)?;
        let mut addresses: Vec<_> =
            inner.members.iter().filter(|m| m.is_person(session)).filter_map(|m| m.address()).collect();
        addresses.sort_unstable_by_key(|a| a.to_string());
        addresses.dedup();
        Some((session, addresses))
    }

    /// Whether a session other than `session` holds `name` here now.
    pub fn held_by_other(&self, name: &Nickname, session: SessionId) -> bool {
        self.inner().presence.held_by_other(name, session)
    }

    /// Publishes stored messages, in order, as one batch: a member gets them in one write (with
    /// whatever else the next pass finds). Their authors are no longer typing.
    pub fn publish(self: &Arc<Self>, messages: &[&StoredMessage]) {
        let events: Vec<_> = messages.iter().map(|m| Arc::new(RoomEvent::message(m))).collect();
        let mut inner = self.inner();
        inner.fan_out(&events, false);
        for message in messages {
            match &message.body {
                Body::Moderation(record) => self.moderated(&mut inner, record, &message.author),
                _ => {
                    let changes = inner.presence.stop_typing(&message.author);
                    inner.announce(&self.name, changes);
                }
            }
        }
        self.release(inner);
    }

    /// A moderator's action was published: the room's rules change (and members are shown the
    /// new ones), and whoever a kick or a ban is about is put out.
    fn moderated(&self, inner: &mut Inner, record: &Record, by: &Nickname) {
        if self.moderation.apply(record, by) {
            if let Some(state) = self.moderation.current() {
                let event = RoomEvent::rules(&self.name, &state.rules);
                inner.fan_out(&[Arc::new(event)], false);
            }
        }
        if matches!(record.action, Action::Kick { .. } | Action::Ban { .. }) {
            for subject in &record.subjects {
                if let Subject::Session(person) = subject {
                    inner.members.iter().filter(|m| m.is_person(*person)).for_each(|m| m.remove());
                }
            }
        }
    }

    /// Passes a relay connection's frame to every relay connection in the room. It is not
    /// stored and the other dialects never see it.
    pub fn relay(self: &Arc<Self>, frame: Frame) {
        let mut inner = self.inner();
        inner.fan_out(&[Arc::new(RoomEvent::relayed(frame))], true);
        drop(inner);
    }

    /// Gives `frame` (JSON) to `person`'s connections here but `except`: what one of their
    /// devices tells the others.
    pub fn tell_person(&self, person: SessionId, except: &Member, frame: Frame) {
        let event = [Arc::new(RoomEvent::personal(frame))];
        let inner = self.inner();
        for member in inner.members.iter().filter(|m| m.is_person(person) && !std::ptr::eq(&***m, except)) {
            member.deliver(&event, true);
        }
    }

    /// Closes the connections of `session` here.
    pub fn end_session(&self, session: SessionId) {
        let inner = self.inner();
        for member in inner.members.iter().filter(|m| m.belongs_to(session)) {
            member.end();
        }
    }

    /// Whether the other nodes let `id` have its nickname here (see [`Federation::claim`]): to be
    /// awaited before [`Room::enter`]; `None` on a single node, where `enter` alone decides.
    pub fn claim(&self, id: &Identity) -> Option<BoxFuture<'static, bool>> {
        let federation = self.federation.as_ref()?;
        Some(federation.claim(&self.name, &id.nickname, id.session))
    }

    /// Gives back a claim that [`Room::enter`] then refused.
    pub fn unclaim(&self, id: &Identity) {
        if let Some(federation) = &self.federation {
            federation.unclaim(&self.name, &id.nickname, id.session);
        }
    }

    /// A connection of `id` enters; `Ok(true)` if it made `id` a member (and that was announced).
    pub fn enter(self: &Arc<Self>, id: &Identity) -> Result<bool, NameTaken> {
        let mut inner = self.inner();
        let (first, changes) = inner.presence.enter(id)?;
        self.federate(&mut inner);
        inner.announce(&self.name, changes);
        self.release(inner);
        Ok(first)
    }

    /// A connection of `id` ends. Unless it left on purpose, its member lingers for `grace` so
    /// that a reload announces nothing. Returns whether the leave was announced now.
    pub fn exit(self: &Arc<Self>, id: &Identity, grace: Option<Duration>) -> bool {
        let mut inner = self.inner();
        match inner.presence.exit(id, grace.is_some()) {
            Exit::StillHere => false,
            Exit::Gone(changes) => {
                self.federate(&mut inner);
                inner.announce(&self.name, changes);
                self.release(inner);
                true
            }
            Exit::Lingering(ticket) => {
                let (room, name, grace) = (Arc::clone(self), id.nickname.clone(), grace.unwrap_or_default());
                tokio::spawn(async move {
                    tokio::time::sleep(grace).await;
                    let mut inner = room.inner();
                    let changes = inner.presence.expire(&name, ticket);
                    room.federate(&mut inner);
                    inner.announce(&room.name, changes);
                    room.release(inner);
                });
                false
            }
        }
    }

    /// `name`, a member on this node, is typing; shown as such for `ttl` after the last call.
    pub fn typing(self: &Arc<Self>, name: &Nickname, ttl: Duration) {
        self.typing_from(name, ttl, true);
    }

    /// `name` is typing on another node.
    pub fn typing_remote(self: &Arc<Self>, name: &Nickname, ttl: Duration) {
        self.typing_from(name, ttl, false);
    }

    /// Another node holds `name` for `session` here.
    pub fn hold_remote(self: &Arc<Self>, node: NodeId, name: &Nickname, session: SessionId) {
        let mut inner = self.inner();
        let changes = inner.presence.hold_remote(node, name, session);
        self.federate(&mut inner);
        inner.announce(&self.name, changes);
        self.release(inner);
    }

    /// Another node no longer holds `name` here.
    pub fn release_remote(self: &Arc<Self>, node: NodeId, name: &Nickname) {
        let mut inner = self.inner();
        let changes = inner.presence.release_remote(node, name);
        self.federate(&mut inner);
        inner.announce(&self.name, changes);
        self.release(inner);
    }

    /// Every member this node holds, with its session: what it tells the other nodes it holds.
    pub fn held_here(&self) -> Vec<(Nickname, SessionId)> {
        self.inner().presence.held_here()
    }

    /// The last message every live member of a chat dialect has been given (`None` without
    /// any): the log has nothing newer that they all were sent. Members catching up read the
    /// log themselves, and relay connections are given no messages.
    pub fn delivered_floor(&self) -> Option<Seq> {
        self.inner().members.iter().filter_map(|member| member.delivered_if_live()).min()
    }

    fn typing_from(self: &Arc<Self>, name: &Nickname, ttl: Duration, here: bool) {
        let mut inner = self.inner();
        let (changes, start_timer) = inner.presence.typing(name, tokio::time::Instant::now() + ttl);
        if here {
            if let Some(federation) = &self.federation {
                federation.typing(&self.name, name);
            }
        }
        inner.announce(&self.name, changes);
        self.release(inner);
        if start_timer {
            let (room, name) = (Arc::clone(self), name.clone());
            // One timer per typist: it sleeps until the deadline, which later notices push back.
            tokio::spawn(async move {
                let mut until = tokio::time::Instant::now() + ttl;
                loop {
                    tokio::time::sleep_until(until).await;
                    let mut inner = room.inner();
                    match inner.presence.typing_due(&name, tokio::time::Instant::now()) {
                        Ok(changes) => {
                            inner.announce(&room.name, changes);
                            return room.release(inner);
                        }
                        Err(later) => until = later,
                    }
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Dialect;
    use crate::rooms::event::Kind;
    use crate::testing::{loopback, nick};
    use app::names::MessageText;
    use app::protocol::Seq;

    fn person(s: &str) -> Identity {
        Identity::ephemeral(nick(s))
    }

    fn text(frame: &Option<Frame>) -> &str {
        frame.as_ref().map(Frame::payload_text).unwrap_or_default()
    }

    fn stored(seq: Seq, text: &str) -> StoredMessage {
        StoredMessage {
            room: RoomName::lobby(),
            epoch: 9,
            seq,
            author: nick("ann"),
            body: crate::store::Body::Text {
                text: MessageText::parse(text).unwrap(),
                edited: None,
                reactions: Default::default(),
                reply: None,
            },
            at: 5,
            client_id: None,
        }
    }

    /// A member that stays catching up, so that it keeps every event for the test to look at.
    async fn watcher(room: &Room, backlog: usize) -> Arc<Member> {
        let (tcp, _client) = loopback().await;
        let member = Arc::new(Member::new(tcp, Dialect::Json, backlog));
        room.add(Arc::clone(&member));
        member
    }

    #[tokio::test]
    async fn every_member_sees_the_same_order() {
        let room = Arc::new(Room::new(RoomName::lobby()));
        let mut members = Vec::new();
        for _ in 0..4 {
            members.push(watcher(&room, 1024).await);
        }
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let room = Arc::clone(&room);
                std::thread::spawn(move || {
                    for i in 0..100 {
                        room.enter(&person(&format!("w{w}-{i}"))).unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let orders: Vec<Vec<String>> = members
            .iter()
            .map(|m| m.take_pending().iter().map(|e| text(&e.json).to_owned()).collect())
            .collect();
        assert!(orders.iter().all(|seen| seen.len() == 400));
        assert!(orders.windows(2).all(|w| w[0] == w[1]), "all members saw one order");
        assert_eq!(room.members().len(), 400);
    }

    #[tokio::test]
    async fn events_carry_both_dialects() {
        let room = Arc::new(Room::new(RoomName::lobby()));
        let member = watcher(&room, 8).await;
        let ann = person("ann");
        assert_eq!(room.enter(&ann), Ok(true));
        room.typing(&ann.nickname, Duration::from_secs(5));
        room.publish(&[&stored(2, "hi")]);
        assert!(room.exit(&ann, None));
        let mut events = member.take_pending().into_iter();
        let joined = events.next().unwrap();
        assert_eq!(text(&joined.plain), "Welcome, ann !");
        assert_eq!(joined.kind, Kind::Joined(nick("ann")));
        assert_eq!(joined.seq, None);
        assert!(text(&joined.json).starts_with(r#"{"type":"joined","room":"lobby","name":"ann","#));
        let typing = events.next().unwrap();
        assert_eq!(typing.plain, None);
        assert_eq!(text(&typing.json), r#"{"type":"typing","room":"lobby","names":["ann"]}"#);
        let said = events.next().unwrap();
        assert_eq!(text(&said.plain), "ann:hi");
        assert_eq!(said.seq, Some(2));
        assert_eq!(
            text(&said.json),
            r#"{"type":"message","id":2,"epoch":9,"room":"lobby","author":"ann","text":"hi","at":5}"#
        );
        // The message ends the typing.
        assert_eq!(text(&events.next().unwrap().json), r#"{"type":"typing","room":"lobby","names":[]}"#);
        assert_eq!(text(&events.next().unwrap().plain), "ann Logout");
    }

    #[tokio::test(start_paused = true)]
    async fn leaves_and_typing_expire_on_their_own() {
        let room = Arc::new(Room::new(RoomName::lobby()));
        let member = watcher(&room, 8).await;
        let ann = person("ann");
        room.enter(&ann).unwrap();
        room.typing(&ann.nickname, Duration::from_secs(5));
        assert!(!room.exit(&ann, Some(Duration::from_secs(3))));
        assert_eq!(member.take_pending().len(), 2, "joined, typing");
        // Still a member during the grace period; then the leave (which ends the typing).
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(room.members(), vec![nick("ann")]);
        tokio::time::sleep(Duration::from_secs(2)).await;
        let events = member.take_pending();
        assert_eq!(text(&events[0].json), r#"{"type":"typing","room":"lobby","names":[]}"#);
        assert_eq!(text(&events[1].plain), "ann Logout");
        assert!(room.members().is_empty());
    }

    /// Reads what the client has been sent until `want` bytes arrived; returns them and how many
    /// reads it took.
    async fn read_at_least(client: &tokio::net::TcpStream, want: usize) -> (Vec<u8>, usize) {
        let (mut got, mut reads, mut buf) = (Vec::new(), 0, [0u8; 512]);
        while got.len() < want {
            client.readable().await.unwrap();
            if let Ok(n) = client.try_read(&mut buf) {
                got.extend_from_slice(&buf[..n]);
                reads += 1;
            }
        }
        (got, reads)
    }

    /// A live plain-dialect member of `room`; returns the client's end of its connection.
    async fn live_member(room: &Room) -> tokio::net::TcpStream {
        let (tcp, client) = loopback().await;
        let member = Arc::new(Member::new(tcp, Dialect::Plain(crate::codec::Lines::Verbatim), 64));
        assert!(member.go_live());
        room.add(member);
        client
    }

    #[tokio::test]
    async fn a_burst_is_written_in_one_pass_after_it() {
        let room = Arc::new(Room::new(RoomName::lobby()));
        let client = live_member(&room).await;
        for i in 0..5 {
            room.enter(&person(&format!("p{i}"))).unwrap();
        }
        room.publish(&[&stored(1, "now")]);
        // The pass is a task of its own: nothing is written before it runs.
        let mut buf = [0u8; 256];
        assert!(client.try_read(&mut buf).is_err(), "nothing written during the burst");
        let (got, _) = read_at_least(&client, 5 * ("Welcome, p0 !".len() + 2) + "ann:now".len() + 2).await;
        assert!(got.ends_with(b"Welcome, p4 !\x81\x07ann:now"));
    }

    #[tokio::test]
    async fn a_busy_rooms_pass_waits_its_turn_and_takes_everything_published_meanwhile() {
        let room = Arc::new(Room::new(RoomName::lobby()));
        let client = live_member(&room).await;
        // As if a long pass had just ended.
        let turn = Instant::now() + Duration::from_millis(50);
        room.inner().next_pass = Some(turn);
        room.publish(&[&stored(1, "a")]);
        tokio::time::sleep(Duration::from_millis(10)).await;
        room.publish(&[&stored(2, "b")]);
        let (got, reads) = read_at_least(&client, 2 * 7).await;
        assert!(Instant::now() >= turn, "written when the room's turn came");
        assert_eq!(got, b"\x81\x05ann:a\x81\x05ann:b");
        assert_eq!(reads, 1, "both in one write");
        // The pass measured itself (one small write): the room's next one may begin at once.
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert!(room.inner().next_pass.is_some_and(|next| next <= Instant::now()));
    }

    #[tokio::test]
    async fn a_member_that_falls_behind_the_backlog_is_told() {
        let room = Arc::new(Room::new(RoomName::lobby()));
        let member = watcher(&room, 4).await;
        for i in 0..10 {
            room.enter(&person(&format!("x{i}"))).unwrap();
        }
        assert_eq!(member.missed(), 6);
        assert_eq!(room.remove(&member), 0);
    }
}

//! Several server processes ("nodes") serving one set of rooms. PostgreSQL is the shared log:
//! it numbers each room's messages whichever node stores them. Redis is the bus: each node
//! publishes there what it commits, and who it holds in which room, and hears the others.
//!
//! The bus is treated as lossy and the log as the truth. A message heard on the bus is handed
//! to the room like one committed here; a member that sees a number it skipped reads the log
//! (see `crate::rooms::Member`), so a lost or reordered publication costs a read, never a
//! message. A room that hears nothing is still caught up: every few seconds (every second while
//! the bus is down, and at once when it reconnects) each live room is compared with the log, and
//! what its members lack is read from there. Nothing is acknowledged before it is committed, so
//! Redis going away costs the other nodes' members a second or so of delay, and nothing else.
//!
//! Presence is the nodes' own: each says what it starts and stops holding as it happens, and
//! restates everything it holds every heartbeat, which makes good whatever the bus lost. A node
//! not heard of for `Limits::node_timeout` is given up, and its members leave; should it come
//! back, its next heartbeat brings them back.
//!
//! - [`wire`]: what the nodes say to each other.
//! - [`bus`]: the Redis connections.
//! - [`subscriber`]: the listening one, read as fast as the node handles it.
//! - [`roster`]: what the other nodes hold.
//! - [`names`]: nicknames claimed in Redis, so that two nodes never admit one at once.
//! - [`catch_up`]: the rooms compared with the log.

pub mod bus;
mod catch_up;
mod names;
mod roster;
mod subscriber;
pub mod wire;

use crate::config::Limits;
use crate::identity::SessionId;
use crate::rooms::{Federation, NodeId, RemoteHold, Rooms};
use crate::store::{DynStore, Publish, StoredMessage};
use app::names::{Nickname, RoomName};
use bus::Health;
use futures_util::future::BoxFuture;
use names::Leases;
use roster::{Roster, Shift};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use wire::{Note, RoomHolds, Session};

/// Messages per commit publication, at most: at the longest text, with every character escaped,
/// well under `subscriber::MAX_PAYLOAD`.
const COMMIT_PART: usize = 64;
const _: () = assert!(COMMIT_PART * app::names::MessageText::MAX_BYTES * 6 < subscriber::MAX_PAYLOAD / 2);

/// This node's part of the cluster: its rooms, shared with the others.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub rooms: Rooms,
    pub health: Health,
    shared: Arc<Shared>,
}

/// What the rooms (through [`Federation`]), the writer (through [`Publish`]) and the bus's
/// tasks share.
#[derive(Debug)]
struct Shared {
    node: NodeId,
    outbox: mpsc::Sender<Vec<u8>>,
    roster: Roster,
    leases: Leases,
}

impl Shared {
    fn say(&self, note: &Note) {
        let payload = note.encode();
        if payload.len() > subscriber::MAX_PAYLOAD {
            // The other nodes would not read it. Commits are sent in small enough parts; a
            // heartbeat this big (about 100,000 names held on one node) is lost, and the
            // others give this node up: a deployment that size needs more nodes.
            tracing::error!(bytes = payload.len(), "a publication too big for the bus: dropped");
            return;
        }
        // Full (the bus is down or slow): dropped, as the bus may drop anything.
        let _ = self.outbox.try_send(payload);
    }
}

impl Federation for Shared {
    fn held(&self, room: &RoomName, name: &Nickname, session: SessionId) {
        self.say(&Note::Hold {
            node: self.node,
            room: room.clone(),
            name: name.clone(),
            session: Session(session),
        });
    }

    fn released(&self, room: &RoomName, name: &Nickname, session: SessionId) {
        self.say(&Note::Release { node: self.node, room: room.clone(), name: name.clone() });
        self.unclaim(room, name, session);
    }

    fn typing(&self, room: &RoomName, name: &Nickname) {
        self.say(&Note::Typing { node: self.node, room: room.clone(), name: name.clone() });
    }

    fn holds_in(&self, room: &RoomName) -> Vec<RemoteHold> {
        self.roster.holds_in(room)
    }

    fn claim(&self, room: &RoomName, name: &Nickname, session: SessionId) -> BoxFuture<'static, bool> {
        Box::pin(self.leases.claim(room, name, session))
    }

    fn ended(&self, sessions: &[SessionId]) {
        // A note stays far below the bus's size limit: an account has at most MAX_LOGINS.
        let sessions = sessions.iter().map(|s| wire::Session(*s)).collect();
        self.say(&Note::Ended { node: self.node, sessions });
    }

    fn unclaim(&self, room: &RoomName, name: &Nickname, session: SessionId) {
        // The session may still hold the name on another node (a second tab): the claim is
        // that node's to give back.
        let elsewhere = self.roster.holds_in(room).iter().any(|h| h.session == session && h.name == *name);
        if !elsewhere {
            self.leases.give_back(room, name, session);
        }
    }
}

impl Publish for Cluster {
    /// What this node committed goes to its own rooms at once, and to the others by the bus.
    fn publish(&self, messages: &[&StoredMessage]) {
        if messages.is_empty() {
            return;
        }
        self.rooms.publish(messages);
        // In parts, so that no publication nears the bus's size limit, whatever the texts.
        for part in messages.chunks(COMMIT_PART) {
            let messages = part.iter().map(|m| (*m).clone()).collect();
            self.shared.say(&Note::Commit { node: self.shared.node, messages });
        }
    }
}

impl Cluster {
    /// Joins the cluster on the Redis at `redis_url`: the bus connects (and reconnects) in the
    /// background, and the heartbeat, the giving up of silent nodes and the catching up from
    /// `store` run until `stop` is cancelled.
    pub fn start(
        redis_url: &str,
        store: DynStore,
        limits: &Limits,
        stop: CancellationToken,
    ) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(redis_url)?;
        let (outbox, queued) = mpsc::channel(bus::OUTBOX);
        let node = fastrand::u64(1..);
        let health = Health::default();
        let (leases, leasing) = Leases::new(client.clone(), health.clone(), limits.node_timeout);
        let shared = Arc::new(Shared { node, outbox, roster: Roster::default(), leases });
        let rooms = Rooms::federated(shared.clone());
        let reconnected = Arc::new(Notify::new());
        let listener = Listener {
            shared: Arc::clone(&shared),
            rooms: rooms.clone(),
            typing_ttl: limits.typing_ttl,
            reconnected: Arc::clone(&reconnected),
        };
        tracing::info!(node, "joining the cluster");
        let until_stopped = |task: BoxFuture<'static, ()>| {
            let stop = stop.clone();
            tokio::spawn(async move {
                tokio::select! {
                    () = stop.cancelled() => {}
                    () = task => {}
                }
            })
        };
        until_stopped(Box::pin(bus::run(client, queued, listener, health.clone(), limits.beat_every * 3)));
        let beat = heartbeat(
            Arc::clone(&shared),
            rooms.clone(),
            health.clone(),
            limits.beat_every,
            limits.node_timeout,
        );
        until_stopped(Box::pin(beat));
        until_stopped(Box::pin(leasing));
        let catch_up = catch_up::run(rooms.clone(), store, health.clone(), reconnected, limits.room_backlog);
        until_stopped(Box::pin(catch_up));
        Ok(Self { rooms, health, shared })
    }

    /// This node's id.
    pub fn node(&self) -> NodeId {
        self.shared.node
    }

    /// The other nodes heard of.
    pub fn peers(&self) -> usize {
        self.shared.roster.len()
    }
}

/// What the bus hears, applied here.
struct Listener {
    shared: Arc<Shared>,
    rooms: Rooms,
    typing_ttl: Duration,
    reconnected: Arc<Notify>,
}

impl bus::Listener for Listener {
    fn heard(&mut self, payload: &[u8]) {
        let note = match Note::decode(payload) {
            Ok(note) => note,
            Err(err) => {
                tracing::warn!(%err, bytes = payload.len(), "unreadable publication on the bus: dropped");
                return;
            }
        };
        let node = note.node();
        if node == self.shared.node {
            return;
        }
        let now = Instant::now();
        let roster = &self.shared.roster;
        match note {
            Note::Commit { messages, .. } => {
                // Stamped by the node that stored them (the nodes' clocks are assumed in step).
                if let Some(first) = messages.first() {
                    let lag = crate::clock::now_millis().saturating_sub(first.at);
                    crate::metrics::get().bus_lag_seconds.observe(lag as f64 / 1000.0);
                }
                let messages: Vec<&StoredMessage> = messages.iter().collect();
                self.rooms.publish(&messages);
            }
            Note::Hold { room, name, session, .. } => {
                if roster.hold(node, &room, &name, session.0, now) {
                    apply(&self.rooms, node, Shift::Hold(room, name, session.0));
                }
            }
            Note::Release { room, name, .. } => {
                if roster.release(node, &room, &name, now) {
                    apply(&self.rooms, node, Shift::Release(room, name));
                }
            }
            Note::Typing { room, name, .. } => {
                if let Some(room) = self.rooms.get(&room) {
                    room.typing_remote(&name, self.typing_ttl);
                }
            }
            Note::Ended { sessions, .. } => {
                let sessions: Vec<SessionId> = sessions.into_iter().map(|s| s.0).collect();
                self.rooms.end_sessions_here(&sessions);
            }
            Note::Beat { holds, .. } => {
                for shift in roster.beat(node, holds, now) {
                    apply(&self.rooms, node, shift);
                }
            }
        }
    }

    fn connected(&mut self) {
        // Nobody could be heard while the bus was down: nobody is given up for it.
        self.shared.roster.heard_all(Instant::now());
        self.reconnected.notify_one();
    }
}

/// A change to what `node` holds, applied to the room if it is live here (otherwise the roster
/// has it for when the room comes to life).
fn apply(rooms: &Rooms, node: NodeId, shift: Shift) {
    match shift {
        Shift::Hold(room, name, session) => {
            if let Some(room) = rooms.get(&room) {
                room.hold_remote(node, &name, session);
            }
        }
        Shift::Release(room, name) => {
            if let Some(room) = rooms.get(&room) {
                room.release_remote(node, &name);
            }
        }
    }
}

/// Every `every`: tells the others what this node holds, and gives up the nodes not heard of
/// for `timeout` (while the bus is up: a node that hears nobody gives up nobody).
async fn heartbeat(shared: Arc<Shared>, rooms: Rooms, health: Health, every: Duration, timeout: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let holds: Vec<RoomHolds> = rooms
            .live()
            .iter()
            .map(|room| RoomHolds {
                room: room.name().clone(),
                members: room
                    .held_here()
                    .into_iter()
                    .map(|(name, session)| (name, Session(session)))
                    .collect(),
            })
            .filter(|holds| !holds.members.is_empty())
            .collect();
        let claims = holds
            .iter()
            .flat_map(|h| h.members.iter().map(|(name, session)| (h.room.clone(), name.clone(), session.0)))
            .collect();
        shared.say(&Note::Beat { node: shared.node, holds });
        shared.leases.renew(claims);
        let status = health.status();
        if status.up && status.since.elapsed() >= timeout {
            for (node, shifts) in shared.roster.expire(Instant::now(), timeout) {
                tracing::warn!(
                    node,
                    members = shifts.len(),
                    "a node was not heard of in time: its members leave"
                );
                for shift in shifts {
                    apply(&rooms, node, shift);
                }
            }
        }
    }
}

//! Nicknames claimed in Redis, so that two nodes admitting one name at the same moment do not
//! both keep it: each node hears of the other's member only after the bus carries it, too late
//! to refuse. Before a connection enters a room, its node claims the name there for its session
//! (a key holding the session, set only if it is free or the session's already); the nodes
//! holding a name renew its claim every heartbeat, and give it back when they let go of it.
//!
//! A claim expires after the node timeout, so the names of a node that dies are free again when
//! its members have left the others' lists. When Redis cannot answer (down, slow, restarted
//! without its keys), a node goes by what it knows, as a single node would, and the next
//! renewals put back what Redis lost.

use super::bus::Health;
use crate::identity::lookalike::same_name;
use crate::identity::SessionId;
use app::names::{Nickname, RoomName};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Mutex};

/// How long a claim may take before the node goes by what it knows.
const ANSWER_WITHIN: Duration = Duration::from_millis(500);
/// Claims given back or renewed per script call: Redis runs a script alone, so none runs long.
const PER_CALL: usize = 500;
/// Chores waiting for the lease task, at most; past it they are dropped (a claim given back
/// late expires; a renewal missed is made at the next beat).
const CHORES: usize = 1024;

/// Sets each key (`KEYS[i]`) to its session (`ARGV[i + 1]`) for `ARGV[1]` ms, unless another
/// session has it; returns how many another session has.
const CLAIM: &str = r"
local refused = 0
for i, key in ipairs(KEYS) do
  local holder = redis.call('GET', key)
  if holder == false or holder == ARGV[i + 1] then
    redis.call('SET', key, ARGV[i + 1], 'PX', ARGV[1])
  else
    refused = refused + 1
  end
end
return refused
";

/// Deletes each key (`KEYS[i]`) that still holds its session (`ARGV[i]`).
const GIVE_BACK: &str = r"
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i] then
    redis.call('DEL', key)
  end
end
return 0
";

/// A name in a room, and the session that claims it.
pub type Claim = (RoomName, Nickname, SessionId);

enum Chore {
    GiveBack(Claim),
    Renew(Vec<Claim>),
}

/// This node's claims.
#[derive(Debug, Clone)]
pub struct Leases {
    inner: Arc<Inner>,
    chores: mpsc::Sender<Chore>,
}

#[derive(Debug)]
struct Inner {
    client: redis::Client,
    connection: Mutex<Option<redis::aio::MultiplexedConnection>>,
    health: Health,
    ttl: Duration,
    claim: redis::Script,
    give_back: redis::Script,
}

impl std::fmt::Debug for Chore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::GiveBack((room, name, _)) => write!(f, "give back {name} in {room}"),
            Self::Renew(claims) => write!(f, "renew {} claims", claims.len()),
        }
    }
}

impl Leases {
    /// Claims last `ttl` unless renewed. Returns the leases and the task that gives back and
    /// renews claims, which runs until every handle on the leases is gone.
    pub fn new(
        client: redis::Client,
        health: Health,
        ttl: Duration,
    ) -> (Self, impl std::future::Future<Output = ()> + Send) {
        let inner = Arc::new(Inner {
            client,
            connection: Mutex::new(None),
            health,
            ttl,
            claim: redis::Script::new(CLAIM),
            give_back: redis::Script::new(GIVE_BACK),
        });
        let (chores, mut queued) = mpsc::channel(CHORES);
        let worker = Arc::clone(&inner);
        let task = async move {
            while let Some(chore) = queued.recv().await {
                let (script, claims, with_ttl) = match chore {
                    Chore::GiveBack(claim) => (&worker.give_back, vec![claim], false),
                    Chore::Renew(claims) => (&worker.claim, claims, true),
                };
                for part in claims.chunks(PER_CALL) {
                    match worker.run(script, part, with_ttl).await {
                        Some(refused) if refused > 0 => tracing::warn!(
                            refused,
                            "nicknames held here are claimed by other sessions (after Redis was unreachable)"
                        ),
                        _ => {}
                    }
                }
            }
        };
        (Self { inner, chores }, task)
    }

    /// Whether `session` may have `name` in `room`: `false` if another session claims it.
    pub fn claim(
        &self,
        room: &RoomName,
        name: &Nickname,
        session: SessionId,
    ) -> impl std::future::Future<Output = bool> + Send + 'static {
        let inner = Arc::clone(&self.inner);
        let claim = (room.clone(), name.clone(), session);
        async move {
            if !inner.health.status().up {
                return true;
            }
            match inner.run(&inner.claim, std::slice::from_ref(&claim), true).await {
                Some(refused) => refused == 0,
                None => true,
            }
        }
    }

    /// Gives back `session`'s claim on `name` in `room` (soon: it is queued).
    pub fn give_back(&self, room: &RoomName, name: &Nickname, session: SessionId) {
        let _ = self.chores.try_send(Chore::GiveBack((room.clone(), name.clone(), session)));
    }

    /// Renews the claims of everything this node holds (soon: it is queued).
    pub fn renew(&self, claims: Vec<Claim>) {
        if !claims.is_empty() {
            let _ = self.chores.try_send(Chore::Renew(claims));
        }
    }
}

impl Inner {
    /// Runs `script` on `claims`; what it returned, or `None` if Redis did not answer in time.
    async fn run(&self, script: &redis::Script, claims: &[Claim], with_ttl: bool) -> Option<i64> {
        let mut invocation = script.prepare_invoke();
        if with_ttl {
            invocation.arg(u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX));
        }
        for (room, name, session) in claims {
            invocation.key(key(room, name)).arg(session.to_string());
        }
        let answer = tokio::time::timeout(ANSWER_WITHIN, async {
            let mut connection = self.connection().await?;
            invocation.invoke_async::<i64>(&mut connection).await
        })
        .await;
        match answer {
            Ok(Ok(refused)) => Some(refused),
            failed => {
                let why = match failed {
                    Ok(Err(err)) => err.to_string(),
                    _ => format!("no answer within {ANSWER_WITHIN:?}"),
                };
                tracing::debug!(%why, "nickname claims: Redis did not answer, going by what this node knows");
                // Made again for the next call.
                self.connection.lock().await.take();
                None
            }
        }
    }

    async fn connection(&self) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
        let mut slot = self.connection.lock().await;
        if let Some(connection) = slot.as_ref() {
            return Ok(connection.clone());
        }
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(ANSWER_WITHIN))
            .set_response_timeout(Some(ANSWER_WITHIN));
        let connection = self.client.get_multiplexed_async_connection_with_config(&config).await?;
        *slot = Some(connection.clone());
        Ok(connection)
    }
}

/// The claim's key: the room, then the name in the form that tells lookalikes apart from nobody
/// (so that `Ann` and `ann` are one claim, as they are one member). The room's length comes
/// first, so that no room and name run into another pair's.
fn key(room: &RoomName, name: &Nickname) -> String {
    format!("chat:v1:name:{}:{}:{}", room.as_str().len(), room.as_str(), same_name(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_is_one_per_room_and_name_as_presence_sees_them() {
        let room = |r: &str| RoomName::parse(r).unwrap();
        let nick = |n: &str| Nickname::parse(n).unwrap();
        assert_eq!(key(&room("lobby"), &nick("Ann")), key(&room("lobby"), &nick("ann")));
        assert_ne!(key(&room("lobby"), &nick("ann")), key(&room("lobby2"), &nick("ann")));
        assert!(key(&room("lobby"), &nick("ann")).starts_with("chat:v1:name:5:lobby:"));
    }
}

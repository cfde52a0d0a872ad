//! What the operator's requests do: the same actions as a room's owner's, taken as the server's
//! operator (who may do anything anywhere), and read-outs of the rooms, accounts and audit.

use super::{Reply, Request};
use crate::accounts::Accounts;
use crate::clock::now_millis;
use crate::identity::lookalike::OPERATOR;
use crate::identity::SessionId;
use crate::rooms::Rooms;
use crate::session::moderation::person;
use crate::store::{Alteration, Body, DynStore, NewChange, NewModeration, Writer};
use app::names::{Nickname, RoomName};
use app::protocol::{Action, Role};
use app::timeline::utc_stamp;

/// The most actions an audit lists (the newest), read a page at a time.
const AUDIT_LIMIT: usize = 10_000;
const AUDIT_PAGE: u32 = 500;

#[derive(Debug, Clone)]
pub struct Admin {
    pub store: DynStore,
    pub writer: Writer,
    pub rooms: Rooms,
    pub accounts: Accounts,
    /// This process's name in the webhooks' leases.
    pub node: String,
}

impl Admin {
    pub async fn handle(&self, request: Request) -> Reply {
        match self.answer(request).await {
            Ok(reply) => reply,
            Err(why) => Reply::refused(why),
        }
    }

    async fn answer(&self, request: Request) -> Result<Reply, String> {
        let action = match request {
            Request::Rooms => return self.list_rooms().await,
            Request::Accounts => {
                let keys = self.store.account_keys().await.map_err(unavailable)?;
                return Ok(Reply::done(keys));
            }
            Request::Room { room } => return self.room(&parse_room(&room)?).await,
            Request::Audit { room } => return self.audit(&parse_room(&room)?).await,
            Request::BotKey { name } => {
                let bot = self.accounts.bot_key(parse_name(&name)?).await.map_err(|e| e.to_string())?;
                return Ok(Reply::done(vec![bot.token]));
            }
            Request::BotRevoke { name } => {
                let ended = self.accounts.revoke_bot(&parse_name(&name)?).await.map_err(|e| e.to_string())?;
                self.rooms.end_sessions(&ended);
                return Ok(Reply::done(vec![format!("{} keys of {name} revoked", ended.len())]));
            }
            Request::Bots => {
                let bots = self.accounts.bots().await.map_err(unavailable)?;
                let lines = bots.iter().map(|(name, keys)| format!("{name}\t{keys} keys")).collect();
                return Ok(Reply::done(lines));
            }
            Request::Delete { room, id } => return self.delete(parse_room(&room)?, id).await,
            Request::WebhookAdd { room, url } => {
                crate::store::webhooks::check_url(&url)?;
                let mut secret = [0_u8; 32];
                getrandom::fill(&mut secret).map_err(|err| format!("no randomness for the secret: {err}"))?;
                let secret = hex::encode(secret);
                let hook = self
                    .store
                    .add_webhook(&parse_room(&room)?, &url, &secret, now_millis())
                    .await
                    .map_err(unavailable)?;
                return Ok(Reply::done(vec![
                    format!("webhook {} for {room}, from message {} on", hook.id, hook.delivered + 1),
                    format!("secret {secret}"),
                ]));
            }
            Request::WebhookRemove { id } => {
                return match self.store.remove_webhook(id).await.map_err(unavailable)? {
                    true => Ok(Reply::done(vec![format!("webhook {id} removed")])),
                    false => Err(format!("no webhook {id}")),
                };
            }
            Request::Webhooks => {
                let hooks = self.store.webhooks().await.map_err(unavailable)?;
                let lines = hooks
                    .iter()
                    .map(|h| {
                        let failing = match h.failures {
                            0 => String::new(),
                            n => format!("\t{n} failures: {}", h.last_error),
                        };
                        let by = if h.lease_owner == self.node { "this server" } else { "another server" };
                        let by = if h.lease_owner.is_empty() { "nobody yet" } else { by };
                        format!(
                            "{}\t{}\t{}\tdelivered up to {}, by {by}{failing}",
                            h.id, h.room, h.url, h.delivered
                        )
                    })
                    .collect();
                return Ok(Reply::done(lines));
            }
            Request::Grant { room, name, role } => {
                let role = match role.as_str() {
                    "owner" => Role::Owner,
                    "moderator" => Role::Moderator,
                    "member" => Role::Member,
                    other => return Err(format!("no such role {other:?}: owner, moderator or member")),
                };
                (room, Action::Role { name: parse_name(&name)?, role })
            }
            Request::Kick { room, name, reason } => (room, Action::Kick { name: parse_name(&name)?, reason }),
            Request::Timeout { room, name, seconds, reason } => {
                (room, Action::Timeout { name: parse_name(&name)?, seconds, reason })
            }
            Request::Ban { room, name, seconds, reason } => {
                (room, Action::Ban { name: parse_name(&name)?, seconds, reason })
            }
            Request::Pardon { room, name } => (room, Action::Pardon { name: parse_name(&name)? }),
            Request::Topic { room, text } => (room, Action::Topic { text }),
            Request::SlowMode { room, seconds } => (room, Action::SlowMode { seconds }),
            Request::Retention { room, days } => (room, Action::Retention { days }),
        };
        self.act(parse_room(&action.0)?, action.1).await
    }

    /// Takes an action as the operator.
    async fn act(&self, room: RoomName, action: Action) -> Result<Reply, String> {
        let live = self.rooms.get(&room);
        let target = person(&self.accounts, &self.store, &room, live.as_deref(), &action)
            .await
            .map_err(|e| e.to_string())?;
        let by = operator();
        let moderation = NewModeration {
            room,
            by: by.clone(),
            by_session: SessionId::random(),
            by_account: None,
            operator: true,
            action,
            target,
            at: now_millis(),
        };
        match self.writer.moderate(moderation).await {
            Ok(Ok(stored)) => match &stored.body {
                Body::Moderation(record) => Ok(Reply::done(vec![format!(
                    "#{} {}: {}",
                    stored.room,
                    stored.seq,
                    record.action.describe(&by)
                )])),
                _ => Ok(Reply::done(Vec::new())),
            },
            Ok(Err(refusal)) => Err(refusal.to_string()),
            Err(err) => Err(err.to_string()),
        }
    }

    async fn delete(&self, room: RoomName, target: u64) -> Result<Reply, String> {
        let change = NewChange {
            room,
            by: operator(),
            session: SessionId::random(),
            target,
            alteration: Alteration::Delete,
            moderator: true,
            at: now_millis(),
        };
        match self.writer.change(change).await {
            Ok(Ok(stored)) => {
                Ok(Reply::done(vec![format!("#{} {}: deleted message {target}", stored.room, stored.seq)]))
            }
            Ok(Err(refusal)) => Err(refusal.to_string()),
            Err(err) => Err(err.to_string()),
        }
    }

    async fn list_rooms(&self) -> Result<Reply, String> {
        let rooms = self.store.active_rooms(1000).await.map_err(unavailable)?;
        let occupancy: std::collections::HashMap<RoomName, usize> =
            self.rooms.occupancy().into_iter().collect();
        let lines = rooms
            .into_iter()
            .map(|room| {
                let here = occupancy.get(&room.name).copied().unwrap_or(0);
                format!(
                    "#{}\t{here} here\tlast active {}\t{}",
                    room.name,
                    utc_stamp(room.last_at),
                    room.topic
                )
            })
            .collect();
        Ok(Reply::done(lines))
    }

    async fn room(&self, room: &RoomName) -> Result<Reply, String> {
        let state = self.store.room_state(room).await.map_err(unavailable)?;
        let rules = &state.rules;
        let mut lines = vec![
            format!("owner: {}", rules.owner.as_ref().map_or("(the operator)".to_owned(), |o| o.to_string())),
            format!(
                "moderators: {}",
                rules.moderators.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ")
            ),
            format!("topic: {}", rules.topic),
            format!(
                "slow mode: {}",
                if rules.slow_mode == 0 { "off".to_owned() } else { format!("{} s", rules.slow_mode) }
            ),
        ];
        for sanction in &state.sanctions {
            let until =
                sanction.until.map_or_else(|| "for good".to_owned(), |u| format!("until {}", utc_stamp(u)));
            lines.push(format!(
                "{:?} of {} ({}) {until}: {}",
                sanction.kind, sanction.name, sanction.subject, sanction.reason
            ));
        }
        Ok(Reply::done(lines))
    }

    /// The newest actions (at most `AUDIT_LIMIT`), oldest first as a log reads.
    async fn audit(&self, room: &RoomName) -> Result<Reply, String> {
        let mut entries = Vec::new();
        let mut before = None;
        while entries.len() < AUDIT_LIMIT {
            let wanted = AUDIT_PAGE.min(u32::try_from(AUDIT_LIMIT - entries.len()).unwrap_or(AUDIT_PAGE));
            let page = self.store.read_actions(room, before, wanted).await.map_err(unavailable)?;
            let Some(oldest) = page.last() else { break };
            before = Some(oldest.seq);
            let full = page.len() == wanted as usize;
            entries.extend(page.iter().filter_map(crate::store::StoredMessage::audited));
            if !full {
                break;
            }
        }
        let lines = entries
            .iter()
            .rev()
            .map(|entry| format!("{}\t{}\t{}", entry.seq, utc_stamp(entry.at), entry.describe()))
            .collect();
        Ok(Reply::done(lines))
    }
}

fn operator() -> Nickname {
    Nickname::parse(OPERATOR).unwrap_or_else(|_| Nickname::guest(0))
}

fn parse_room(room: &str) -> Result<RoomName, String> {
    RoomName::parse(room.trim_start_matches('#')).map_err(|e| format!("bad room name: {e}"))
}

fn parse_name(name: &str) -> Result<Nickname, String> {
    Nickname::parse(name).map_err(|e| format!("bad nickname: {e}"))
}

fn unavailable(err: crate::store::StoreError) -> String {
    format!("storage is unavailable: {err}")
}

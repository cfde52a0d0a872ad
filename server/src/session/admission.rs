//! What a connection may send, and when: its own flood control, and the shares of its session
//! and its address that every way in draws from (see [`super::quota`]).

use super::flood::Verdict;
use super::quota::TooFast;
use super::{End, Session};
use crate::codec::Dialect;
use crate::identity::AddressKey;
use crate::ws::{Inbound, Refusal};
use app::protocol::{ErrorCode, ServerEvent};
use tokio::time::Instant;

impl Session {
    /// Flood control: a frame over the client's rate waits its turn (the client is told once per
    /// spell), so nothing it sent is lost; a client that stays over the rate is closed.
    /// While it waits, its socket is not read: the flood backs up into its own TCP window.
    pub(super) async fn admit(&mut self, message: &Inbound) -> Option<End> {
        if matches!(message, Inbound::Pong | Inbound::Close(_)) {
            return None;
        }
        let verdict = self.flood.check(Instant::now());
        self.obey(verdict).await
    }

    /// The share of messages this connection's session and address have, whichever way the
    /// rest of theirs come (other tabs, forms): over it, the message waits its turn as above.
    pub(super) async fn admit_message(&mut self) -> Option<End> {
        let verdict = self.deps.quotas.check_message(self.identity.session, self.address(), Instant::now());
        self.obey(verdict).await
    }

    /// The client's address, for the limits it shares with everything else from there: read
    /// off the socket when a message needs it, rather than kept by every idle connection. (A
    /// socket too broken to say is the unknown address's.)
    pub(super) fn address(&self) -> AddressKey {
        let ip = self.socket.tcp().peer_addr().map_or(std::net::IpAddr::from([0, 0, 0, 0]), |peer| peer.ip());
        AddressKey::from(ip)
    }

    pub(super) async fn obey(&mut self, verdict: Verdict) -> Option<End> {
        match verdict {
            Verdict::Pass => None,
            Verdict::Throttle { wait, first } => {
                crate::metrics::get().flood_throttled.inc();
                if first && self.dialect == Dialect::Json {
                    let warning = ServerEvent::Error {
                        code: ErrorCode::RateLimited,
                        message: format!(
                            "You are sending too fast (more than {} messages a second): \
                             the rest are sent more slowly.",
                            self.deps.limits.messages_per_second
                        ),
                    };
                    if let Some(end) = self.reply(&warning).await {
                        return Some(end);
                    }
                }
                tokio::time::sleep(wait).await;
                None
            }
            Verdict::Abuse => {
                // Logged with the connection's end, once.
                tracing::debug!(room = %self.membership.room().name(), name = %self.identity.nickname, "closed for flooding");
                Some(End::Refused(Refusal::policy("flooding: too many messages for too long")))
            }
        }
    }

    /// A message to a room without a log creates one, for good: the address pays for it from
    /// its new rooms (once per connection).
    pub(super) fn take_room(&mut self) -> Result<(), TooFast> {
        if self.room_is_new {
            self.deps.quotas.take_room(self.address(), Instant::now())?;
            self.room_is_new = false;
        }
        Ok(())
    }
}

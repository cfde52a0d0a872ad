//! The reading side of one WebSocket connection: messages in, from RFC 6455 frames or the hixie
//! drafts' alike. Writes go through an [`Outbox`] on the same TCP stream, which the socket
//! shares.

use super::framing::Framing;
use super::hixie;
use super::outbox::Outbox;
use super::reader::{Inbound, Reader};
use super::refusal::Refusal;
use std::io::ErrorKind;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;
use tokio::net::TcpStream;

/// Why reading stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// The connection ended (or failed) without a word: nobody to tell anything.
    Gone,
    /// The client broke a rule: it is owed a close with this code and reason.
    Fault(Refusal),
}

#[derive(Debug)]
pub struct Socket {
    tcp: Arc<TcpStream>,
    reader: Frames,
}

/// The reader of the connection's framing.
#[derive(Debug)]
enum Frames {
    Rfc6455(Reader),
    Hixie(hixie::Reader),
}

impl Socket {
    /// `leftover`: bytes the client sent right after its handshake.
    pub fn new(tcp: TcpStream, leftover: &[u8], max_message: usize) -> Self {
        Self { tcp: Arc::new(tcp), reader: Frames::Rfc6455(Reader::new(max_message, leftover)) }
    }

    /// A connection that spoke a hixie handshake.
    pub fn hixie(tcp: TcpStream, leftover: &[u8], max_message: usize) -> Self {
        Self { tcp: Arc::new(tcp), reader: Frames::Hixie(hixie::Reader::new(max_message, leftover)) }
    }

    /// The stream, for writing.
    pub fn tcp(&self) -> &Arc<TcpStream> {
        &self.tcp
    }

    pub fn framing(&self) -> Framing {
        match self.reader {
            Frames::Rfc6455(_) => Framing::Rfc6455,
            Frames::Hixie(_) => Framing::Hixie,
        }
    }

    /// An outbox that writes this connection's framing.
    pub fn outbox(&self) -> Outbox {
        Outbox::new(self.framing())
    }

    /// For a connection that cannot be pinged: the kernel probes an idle one after `idle`, and
    /// gives it up (reads then fail) when its probes go unanswered for `deadline`, or data it
    /// was sent stays unacknowledged for both together. A vanished peer is thus noticed about
    /// as soon as an unanswered ping would show it.
    pub fn keep_alive_by_tcp(&self, idle: Duration, deadline: Duration) -> std::io::Result<()> {
        const PROBES: u32 = 3;
        let probes = socket2::TcpKeepalive::new()
            .with_time(idle.max(Duration::from_secs(1)))
            .with_interval((deadline / PROBES).max(Duration::from_secs(1)))
            .with_retries(PROBES);
        let socket = socket2::SockRef::from(&*self.tcp);
        socket.set_tcp_keepalive(&probes)?;
        socket.set_tcp_user_timeout(Some(idle + deadline))
    }

    /// The next message. Cancel-safe: what was read stays buffered for the next call. A ping is
    /// returned like any message: the caller owes it a pong.
    pub async fn recv(&mut self) -> Result<Inbound, ReadError> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    // Polled rather than awaiting `readable()`: a session's read is dropped and made again
    // whenever something else wakes it, and a readiness future would join and leave the
    // socket's waiter list each time.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<Inbound, ReadError>> {
        loop {
            let next = match &mut self.reader {
                Frames::Rfc6455(reader) => reader.next(),
                Frames::Hixie(reader) => reader.next(),
            };
            match next {
                Ok(Some(message)) => return Poll::Ready(Ok(message)),
                Ok(None) => {}
                Err(fault) => return Poll::Ready(Err(ReadError::Fault(fault))),
            }
            if ready!(self.tcp.poll_read_ready(cx)).is_err() {
                return Poll::Ready(Err(ReadError::Gone));
            }
            let buffer = match &mut self.reader {
                Frames::Rfc6455(reader) => reader.buffer(),
                Frames::Hixie(reader) => reader.buffer(),
            };
            match self.tcp.try_read_buf(buffer) {
                Ok(0) => return Poll::Ready(Err(ReadError::Gone)),
                Ok(_) => {}
                Err(err) if err.kind() == ErrorKind::WouldBlock => {}
                Err(_) => return Poll::Ready(Err(ReadError::Gone)),
            }
        }
    }

    /// Whether the client has sent its close frame (so no reply to ours is coming).
    pub fn peer_closed(&self) -> bool {
        match &self.reader {
            Frames::Rfc6455(reader) => reader.closed(),
            Frames::Hixie(reader) => reader.closed(),
        }
    }

    /// After the server's close frame: waits, at most `grace`, for the client's (unless it has
    /// sent it already), reading past whatever else comes first.
    pub async fn wait_for_close(&mut self, grace: std::time::Duration) {
        if self.peer_closed() {
            return;
        }
        let drain = async {
            while let Ok(message) = self.recv().await {
                if matches!(message, Inbound::Close(_)) {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(grace, drain).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::loopback;

    #[tokio::test]
    async fn a_connection_without_pings_is_kept_alive_by_tcp() {
        let (tcp, _peer) = loopback().await;
        let tcp = Arc::try_unwrap(tcp).expect("one owner");
        let socket = Socket::hixie(tcp, &[], 100);
        assert_eq!(socket.framing(), Framing::Hixie);
        socket.keep_alive_by_tcp(Duration::from_secs(25), Duration::from_secs(9)).expect("set");
        let tcp = socket2::SockRef::from(&**socket.tcp());
        assert!(tcp.keepalive().expect("SO_KEEPALIVE"));
        assert_eq!(tcp.tcp_keepalive_time().expect("idle"), Duration::from_secs(25));
        assert_eq!(tcp.tcp_keepalive_interval().expect("interval"), Duration::from_secs(3));
        assert_eq!(tcp.tcp_keepalive_retries().expect("probes"), 3);
        assert_eq!(tcp.tcp_user_timeout().expect("user timeout"), Some(Duration::from_secs(34)));
    }
}

//! The reading side of one WebSocket connection: messages in. Writes go through an
//! [`Outbox`](super::Outbox) on the same TCP stream, which the socket shares.

use super::reader::{Inbound, Reader};
use super::refusal::Refusal;
use std::io::ErrorKind;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
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
    reader: Reader,
}

impl Socket {
    /// `leftover`: bytes the client sent right after its handshake.
    pub fn new(tcp: TcpStream, leftover: &[u8], max_message: usize) -> Self {
        Self { tcp: Arc::new(tcp), reader: Reader::new(max_message, leftover) }
    }

    /// The stream, for writing.
    pub fn tcp(&self) -> &Arc<TcpStream> {
        &self.tcp
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
            match self.reader.next() {
                Ok(Some(message)) => return Poll::Ready(Ok(message)),
                Ok(None) => {}
                Err(fault) => return Poll::Ready(Err(ReadError::Fault(fault))),
            }
            if ready!(self.tcp.poll_read_ready(cx)).is_err() {
                return Poll::Ready(Err(ReadError::Gone));
            }
            match self.tcp.try_read_buf(self.reader.buffer()) {
                Ok(0) => return Poll::Ready(Err(ReadError::Gone)),
                Ok(_) => {}
                Err(err) if err.kind() == ErrorKind::WouldBlock => {}
                Err(_) => return Poll::Ready(Err(ReadError::Gone)),
            }
        }
    }

    /// Whether the client has sent its close frame (so no reply to ours is coming).
    pub fn peer_closed(&self) -> bool {
        self.reader.closed()
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

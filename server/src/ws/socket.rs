//! One WebSocket connection over its TCP stream: messages in, frames out.
//!
//! Writes take frames that are already encoded (a room encodes each event once for all its
//! members) and send everything queued with one vectored write. Only a write the kernel cannot
//! take at once waits, and only that wait has a deadline: a client that stopped reading is
//! dropped after `stall`, and the common path sets no timer at all.

use super::frame::Frame;
use super::reader::{Fault, Inbound, Reader};
use bytes::Bytes;
use socket2::SockRef;
use std::collections::VecDeque;
use std::io::{ErrorKind, IoSlice};
use std::task::{ready, Context, Poll};
use std::time::Duration;
use tokio::io::Interest;
use tokio::net::TcpStream;

/// Why reading stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// The connection ended (or failed) without a word: nobody to tell anything.
    Gone,
    /// The client broke a rule: it is owed a close with this code and reason.
    Fault(Fault),
}

/// Why writing stopped: either way the connection is of no more use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteError {
    Gone,
    /// The client took nothing for the whole deadline.
    Stalled,
}

/// Frames written by one vectored write at most.
const MAX_IOVECS: usize = 64;

#[derive(Debug)]
pub struct Socket {
    tcp: TcpStream,
    reader: Reader,
    queued: VecDeque<Bytes>,
    /// Bytes of the first queued frame already written.
    written: usize,
}

impl Socket {
    /// `leftover`: bytes the client sent right after its handshake.
    pub fn new(tcp: TcpStream, leftover: &[u8], max_message: usize) -> Self {
        Self { tcp, reader: Reader::new(max_message, leftover), queued: VecDeque::new(), written: 0 }
    }

    /// The next message. Cancel-safe: what was read stays buffered for the next call. A ping is
    /// answered by queueing its pong; the caller flushes.
    pub async fn recv(&mut self) -> Result<Inbound, ReadError> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    // Polled rather than awaiting `readable()`: a session drops its read for every event it
    // forwards, and a readiness future would join and leave the socket's waiter list each time.
    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<Inbound, ReadError>> {
        loop {
            match self.reader.next() {
                Ok(Some(message)) => {
                    if let Inbound::Ping(payload) = &message {
                        self.queue(&Frame::pong(payload));
                    }
                    return Poll::Ready(Ok(message));
                }
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

    /// Queues a frame for the next flush.
    pub fn queue(&mut self, frame: &Frame) {
        self.queued.push_back(frame.bytes().clone());
    }

    /// Writes everything queued; waits (at most `stall` at a time) while the client's window is
    /// full.
    pub async fn flush(&mut self, stall: Duration) -> Result<(), WriteError> {
        while !self.queued.is_empty() {
            match self.try_send() {
                Ok(0) => return Err(WriteError::Gone),
                Ok(n) => self.advance(n),
                Err(err) if err.kind() == ErrorKind::WouldBlock => {
                    // Boxed: the timer exists only while a write waits, not in every session.
                    match Box::pin(tokio::time::timeout(stall, self.tcp.writable())).await {
                        Ok(Ok(())) => {}
                        Ok(Err(_)) => return Err(WriteError::Gone),
                        Err(_) => return Err(WriteError::Stalled),
                    }
                }
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Err(WriteError::Gone),
            }
        }
        // A burst's queue is not kept for an idle connection.
        if self.queued.capacity() > 8 {
            self.queued = VecDeque::new();
        }
        Ok(())
    }

    /// Queues `frame` and flushes.
    pub async fn send(&mut self, frame: &Frame, stall: Duration) -> Result<(), WriteError> {
        self.queue(frame);
        self.flush(stall).await
    }

    /// One vectored write of what is queued, without waiting. Kept out of `flush` so that its
    /// array of slices is not part of every session's future.
    fn try_send(&self) -> std::io::Result<usize> {
        let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
        let mut count = 0;
        for (slot, frame) in slices.iter_mut().zip(&self.queued) {
            let unwritten = if count == 0 { frame.get(self.written..).unwrap_or_default() } else { frame };
            *slot = IoSlice::new(unwritten);
            count += 1;
        }
        // sendmsg(2) straight to the socket: write(2)'s file layer is pure overhead here.
        self.tcp.try_io(Interest::WRITABLE, || SockRef::from(&self.tcp).send_vectored(&slices[..count]))
    }

    fn advance(&mut self, mut n: usize) {
        while let Some(front) = self.queued.front() {
            let left = front.len() - self.written;
            if n < left {
                self.written += n;
                return;
            }
            n -= left;
            self.written = 0;
            self.queued.pop_front();
        }
    }
}

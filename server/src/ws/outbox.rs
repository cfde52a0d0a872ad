//! What is waiting to be written to one connection: frames already encoded (a room encodes each
//! event once for all its members), written with one vectored `sendmsg(2)` for as many as the
//! kernel takes.
//!
//! An outbox never waits: it writes what the socket takes now and keeps the rest. Whoever owns
//! it decides how to wait for the socket (see [`writable`]), which lets a room write to its
//! members' sockets directly, without waking the tasks that serve them.

use super::frame::Frame;
use super::framing::Framing;
use super::hixie;
use bytes::Bytes;
use socket2::SockRef;
use std::collections::VecDeque;
use std::io::{ErrorKind, IoSlice};
use std::time::Duration;
use tokio::io::Interest;
use tokio::net::TcpStream;

/// Why writing stopped: either way the connection is of no more use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteError {
    Gone,
    /// The client took nothing for the whole deadline.
    Stalled,
}

/// Frames written by one vectored write at most.
const MAX_IOVECS: usize = 64;

#[derive(Debug, Default)]
pub struct Outbox {
    queued: VecDeque<Bytes>,
    /// Bytes of the first queued frame already written.
    written: usize,
    framing: Framing,
}

impl Outbox {
    /// An outbox for a connection of `framing`: what it is given is RFC 6455 frames, which it
    /// rewrites for a hixie connection.
    pub fn new(framing: Framing) -> Self {
        Self { framing, ..Self::default() }
    }

    pub fn framing(&self) -> Framing {
        self.framing
    }

    pub fn queue(&mut self, frame: &Frame) {
        match self.framing {
            Framing::Rfc6455 => self.queued.push_back(frame.bytes().clone()),
            Framing::Hixie => self.queued.extend(hixie::reframe(frame.bytes())),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.queued.is_empty()
    }

    /// Frames waiting, the one partly written included.
    pub fn len(&self) -> usize {
        self.queued.len()
    }

    /// Writes what `tcp` takes now. `Ok` whether everything went or the socket is full; an error
    /// means the connection is gone (and the outbox is emptied).
    pub fn write_to(&mut self, tcp: &TcpStream) -> Result<(), WriteError> {
        let mut sent = 0;
        let end = loop {
            if self.queued.is_empty() {
                break Ok(());
            }
            match self.try_send(tcp) {
                Ok(0) => break Err(()),
                Ok(n) => {
                    sent += n;
                    self.advance(n);
                }
                Err(err) if err.kind() == ErrorKind::WouldBlock => break Ok(()),
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(_) => break Err(()),
            }
        };
        // Counted once per call, not per write: the counter is shared by every thread.
        if sent > 0 {
            crate::metrics::get().sent_bytes.inc_by(sent as u64);
        }
        match end {
            // The socket is full: the rest waits for it.
            Ok(()) if !self.queued.is_empty() => Ok(()),
            Ok(()) => {
                // An idle connection keeps no queue: what a room writes mostly goes at once, and
                // the allocation it takes meanwhile costs far less than the write.
                self.queued = VecDeque::new();
                Ok(())
            }
            Err(()) => {
                *self = Self::new(self.framing);
                Err(WriteError::Gone)
            }
        }
    }

    /// Writes everything, waiting (at most `stall` at a time) while the client's window is full.
    /// For an outbox its owner alone writes to.
    pub async fn flush(&mut self, tcp: &TcpStream, stall: Duration) -> Result<(), WriteError> {
        loop {
            self.write_to(tcp)?;
            if self.is_empty() {
                return Ok(());
            }
            writable(tcp, stall).await?;
        }
    }

    /// One vectored write of what is queued, without waiting. Kept out of `write_to`'s callers
    /// so that its array of slices is never part of a future.
    fn try_send(&self, tcp: &TcpStream) -> std::io::Result<usize> {
        let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
        let mut count = 0;
        for (slot, frame) in slices.iter_mut().zip(&self.queued) {
            let unwritten = if count == 0 { frame.get(self.written..).unwrap_or_default() } else { frame };
            *slot = IoSlice::new(unwritten);
            count += 1;
        }
        // sendmsg(2) straight to the socket: write(2)'s file layer is pure overhead here. Through
        // `try_io`, so that a full socket clears tokio's readiness and `writable` really waits.
        tcp.try_io(Interest::WRITABLE, || SockRef::from(tcp).send_vectored(&slices[..count]))
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

/// Waits until `tcp` takes writes again; a client that takes nothing for `stall` stopped reading.
pub async fn writable(tcp: &TcpStream, stall: Duration) -> Result<(), WriteError> {
    // Boxed: the timer exists only while a write waits, not in every session's future.
    match Box::pin(tokio::time::timeout(stall, tcp.writable())).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(WriteError::Gone),
        Err(_) => Err(WriteError::Stalled),
    }
}

//! The stream a connection is served on until it becomes a WebSocket: writes give up when the
//! peer takes nothing for a while, so that a response nobody reads (a big page, a file) does not
//! hold its connection, its socket and its buffers for ever. Reads are left to the deadlines on
//! request heads and bodies. After the handshake the TCP stream is taken back out, and the room
//! connection's own write-stall deadline applies (see [`super::Outbox`]).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

#[derive(Debug)]
pub struct WriteStall<S> {
    inner: S,
    limit: Duration,
    /// Set while a write waits for the peer: when it runs out, the write fails.
    waiting: Option<Pin<Box<Sleep>>>,
}

impl<S> WriteStall<S> {
    pub fn new(inner: S, limit: Duration) -> Self {
        Self { inner, limit, waiting: None }
    }

    pub fn into_inner(self) -> S {
        self.inner
    }

    /// A write that went nowhere: pending until `limit` has passed without progress, then an
    /// error.
    fn stalled(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let limit = self.limit;
        let timer = self.waiting.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the peer took nothing for {limit:?}"),
            ))),
            Poll::Pending => Poll::Pending,
        }
    }

    /// What the inner stream did; a write that waits starts (or keeps) the clock.
    fn progress<T>(&mut self, cx: &mut Context<'_>, polled: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        match polled {
            Poll::Ready(result) => {
                self.waiting = None;
                Poll::Ready(result)
            }
            Poll::Pending => match self.stalled(cx) {
                Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
                _ => Poll::Pending,
            },
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WriteStall<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WriteStall<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.progress(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.progress(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        self.progress(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.progress(cx, polled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_write_nobody_takes_fails_after_the_limit_and_one_that_moves_does_not() {
        // A pipe of 64 bytes: it is full once 64 bytes wait unread.
        let (near, _far) = tokio::io::duplex(64);
        let mut stream = WriteStall::new(near, Duration::from_millis(100));
        let began = tokio::time::Instant::now();
        let err = stream.write_all(&[7u8; 1000]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(began.elapsed() >= Duration::from_millis(100));

        // A slow reader that keeps reading is not cut off, however long the whole write takes.
        let (near, mut far2) = tokio::io::duplex(64);
        let mut stream = WriteStall::new(near, Duration::from_millis(100));
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            let mut buf = [0u8; 64];
            while got.len() < 1000 {
                tokio::time::sleep(Duration::from_millis(30)).await;
                let n = far2.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            got.len()
        });
        stream.write_all(&[7u8; 1000]).await.unwrap();
        assert_eq!(reader.await.unwrap(), 1000);
    }
}

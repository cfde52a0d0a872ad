//! The subscribing half of the bus: one connection to Redis that says `SUBSCRIBE` and then only
//! reads. Written here rather than taken from the `redis` crate because the crate's subscriber
//! reads the socket on a task of its own into an unbounded queue: a node that falls behind would
//! hold a growing backlog in memory. Here a publication is read off the socket only when the
//! node is ready for it, so the backlog waits in the kernel's buffer and then in Redis's output
//! buffer for this client, which Redis bounds (`client-output-buffer-limit pubsub`) by closing
//! the connection; the node then reconnects and catches up from the log, as after any loss.
//!
//! Replies are RESP2 (the connection never says `HELLO 3`): a subscriber is sent arrays of bulk
//! strings and integers, and errors. Every length read is checked against a limit before
//! anything is allocated for it.

use redis::{ConnectionAddr, ConnectionInfo};
use std::io;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

/// The largest publication this node reads, and publishes (see `super::Shared::say`).
pub const MAX_PAYLOAD: usize = 8 << 20;
/// The largest array a subscriber is sent: `message`, channel, payload (four with patterns).
const MAX_ITEMS: usize = 8;
/// The longest line (type, length, simple string or error) read before it is refused.
const MAX_LINE: usize = 1024;

/// A read-only connection subscribed to one channel.
pub struct Subscriber {
    reader: BufReader<Box<dyn AsyncRead + Send + Unpin>>,
    // Kept open: closing it would end the subscription.
    _writer: Box<dyn AsyncWrite + Send + Unpin>,
    channel: Vec<u8>,
}

/// One reply from Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reply {
    Simple(String),
    Error(String),
    Integer(i64),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Reply>),
}

impl Subscriber {
    /// Connects as `info` says (TCP or a Unix socket), authenticates if it has a password, and
    /// subscribes to `channel`.
    pub async fn connect(info: &ConnectionInfo, channel: &str) -> io::Result<Self> {
        let (reader, writer): (Box<dyn AsyncRead + Send + Unpin>, Box<dyn AsyncWrite + Send + Unpin>) =
            match info.addr() {
                ConnectionAddr::Tcp(host, port) => {
                    let stream = tokio::net::TcpStream::connect((host.as_str(), *port)).await?;
                    stream.set_nodelay(true)?;
                    let (r, w) = stream.into_split();
                    (Box::new(r), Box::new(w))
                }
                #[cfg(unix)]
                ConnectionAddr::Unix(path) => {
                    let (r, w) = tokio::net::UnixStream::connect(path).await?.into_split();
                    (Box::new(r), Box::new(w))
                }
                other => {
                    return Err(io::Error::new(
                        io::ErrorKind::Unsupported,
                        format!("the bus cannot subscribe over {other}"),
                    ))
                }
            };
        Self::start(reader, writer, info, channel).await
    }

    async fn start(
        reader: Box<dyn AsyncRead + Send + Unpin>,
        mut writer: Box<dyn AsyncWrite + Send + Unpin>,
        info: &ConnectionInfo,
        channel: &str,
    ) -> io::Result<Self> {
        let mut reader = BufReader::new(reader);
        let settings = info.redis_settings();
        if let Some(password) = settings.password() {
            let mut auth = redis::cmd("AUTH");
            if let Some(user) = settings.username() {
                auth.arg(user);
            }
            auth.arg(password);
            writer.write_all(&auth.get_packed_command()).await?;
            writer.flush().await?;
            match read_reply(&mut reader).await? {
                Reply::Simple(_) => {}
                Reply::Error(e) => return Err(refused(format!("Redis refused the password: {e}"))),
                other => return Err(refused(format!("unexpected answer to AUTH: {other:?}"))),
            }
        }
        writer.write_all(&redis::cmd("SUBSCRIBE").arg(channel).get_packed_command()).await?;
        writer.flush().await?;
        match read_reply(&mut reader).await? {
            Reply::Array(items) if items.first() == Some(&Reply::Bulk(Some(b"subscribe".to_vec()))) => {}
            Reply::Error(e) => return Err(refused(format!("Redis refused SUBSCRIBE: {e}"))),
            other => return Err(refused(format!("unexpected answer to SUBSCRIBE: {other:?}"))),
        }
        Ok(Self { reader, _writer: writer, channel: channel.into() })
    }

    /// The next publication on the channel. An error means the connection is no good any more
    /// (closed, cut, or it said something this reader does not accept).
    pub async fn next(&mut self) -> io::Result<Vec<u8>> {
        loop {
            match read_reply(&mut self.reader).await? {
                Reply::Array(mut items) if items.len() == 3 => {
                    let (Reply::Bulk(Some(kind)), Reply::Bulk(Some(channel))) = (&items[0], &items[1]) else {
                        return Err(refused(format!("unexpected push: {items:?}")));
                    };
                    if kind == b"message" && *channel == self.channel {
                        if let Some(Reply::Bulk(Some(payload))) = items.pop() {
                            return Ok(payload);
                        }
                        return Err(refused("a message without a payload".to_owned()));
                    }
                    // Anything else (a confirmation, say) is not for the listener.
                }
                Reply::Error(e) => return Err(refused(format!("Redis said: {e}"))),
                _ => {}
            }
        }
    }
}

fn refused(why: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why)
}

/// Reads one reply; arrays one level deep, which is all a subscriber is sent.
async fn read_reply<R: AsyncRead + Unpin>(reader: &mut BufReader<R>) -> io::Result<Reply> {
    let line = read_line(reader).await?;
    match line.split_first() {
        Some((b'*', count)) => {
            let Some(count) = length(count)? else { return Ok(Reply::Array(Vec::new())) };
            if count > MAX_ITEMS {
                return Err(refused(format!("an array of {count} items")));
            }
            let mut items = Vec::with_capacity(count);
            for _ in 0..count {
                let line = read_line(reader).await?;
                if line.first() == Some(&b'*') {
                    return Err(refused("a nested array".to_owned()));
                }
                items.push(scalar(reader, line).await?);
            }
            Ok(Reply::Array(items))
        }
        _ => scalar(reader, line).await,
    }
}

async fn scalar<R: AsyncRead + Unpin>(reader: &mut BufReader<R>, line: Vec<u8>) -> io::Result<Reply> {
    let text = |rest: &[u8]| String::from_utf8_lossy(rest).into_owned();
    match line.split_first() {
        Some((b'+', rest)) => Ok(Reply::Simple(text(rest))),
        Some((b'-', rest)) => Ok(Reply::Error(text(rest))),
        Some((b':', rest)) => {
            let n = std::str::from_utf8(rest).ok().and_then(|s| s.parse().ok());
            n.map(Reply::Integer).ok_or_else(|| refused(format!("a bad integer {:?}", text(rest))))
        }
        Some((b'$', rest)) => {
            let Some(len) = length(rest)? else { return Ok(Reply::Bulk(None)) };
            if len > MAX_PAYLOAD {
                return Err(refused(format!("a publication of {len} bytes, over {MAX_PAYLOAD}")));
            }
            let mut data = vec![0; len + 2];
            reader.read_exact(&mut data).await?;
            if !data.ends_with(b"\r\n") {
                return Err(refused("a bulk string not ended by CRLF".to_owned()));
            }
            data.truncate(len);
            Ok(Reply::Bulk(Some(data)))
        }
        _ => Err(refused(format!("an unknown reply {:?}", text(&line)))),
    }
}

/// A length, or `None` for RESP's -1 (no value).
fn length(digits: &[u8]) -> io::Result<Option<usize>> {
    if digits == b"-1" {
        return Ok(None);
    }
    std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .map(Some)
        .ok_or_else(|| refused(format!("a bad length {:?}", String::from_utf8_lossy(digits))))
}

/// One line without its CRLF; the connection is given up past `MAX_LINE` or at its end.
async fn read_line<R: AsyncRead + Unpin>(reader: &mut BufReader<R>) -> io::Result<Vec<u8>> {
    let mut line = Vec::new();
    let read = (&mut *reader).take(MAX_LINE as u64 + 2).read_until(b'\n', &mut line).await?;
    if read == 0 {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "Redis closed the connection"));
    }
    if !line.ends_with(b"\r\n") {
        return Err(refused("a line too long or not ended by CRLF".to_owned()));
    }
    line.truncate(line.len() - 2);
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse(bytes: &[u8]) -> io::Result<Reply> {
        read_reply(&mut BufReader::new(bytes)).await
    }

    #[tokio::test]
    async fn reads_what_a_subscriber_is_sent() {
        let message = parse(b"*3\r\n$7\r\nmessage\r\n$3\r\nbus\r\n$5\r\nh\r\nlo\r\n").await.unwrap();
        assert_eq!(
            message,
            Reply::Array(vec![
                Reply::Bulk(Some(b"message".to_vec())),
                Reply::Bulk(Some(b"bus".to_vec())),
                Reply::Bulk(Some(b"h\r\nlo".to_vec())),
            ])
        );
        let confirmed = parse(b"*3\r\n$9\r\nsubscribe\r\n$3\r\nbus\r\n:1\r\n").await.unwrap();
        assert_eq!(
            confirmed,
            Reply::Array(vec![
                Reply::Bulk(Some(b"subscribe".to_vec())),
                Reply::Bulk(Some(b"bus".to_vec())),
                Reply::Integer(1)
            ])
        );
        assert_eq!(parse(b"+OK\r\n").await.unwrap(), Reply::Simple("OK".into()));
        assert_eq!(parse(b"-NOAUTH x\r\n").await.unwrap(), Reply::Error("NOAUTH x".into()));
        assert_eq!(parse(b"$-1\r\n").await.unwrap(), Reply::Bulk(None));
        assert_eq!(parse(b"$0\r\n\r\n").await.unwrap(), Reply::Bulk(Some(Vec::new())));
    }

    #[tokio::test]
    async fn refuses_what_it_should_not_allocate_or_cannot_frame() {
        for bad in [
            format!("${}\r\n", MAX_PAYLOAD + 1).into_bytes(),
            b"*9\r\n".to_vec(),
            b"*1\r\n*1\r\n:1\r\n".to_vec(),
            b"$3\r\nabcde\r\n".to_vec(),
            b"$x\r\n".to_vec(),
            b":1x\r\n".to_vec(),
            b"?\r\n".to_vec(),
            b"+no end".to_vec(),
            [b"+".to_vec(), vec![b'a'; MAX_LINE + 10], b"\r\n".to_vec()].concat(),
            b"$5\r\nab".to_vec(),
            Vec::new(),
        ] {
            assert!(parse(&bad).await.is_err(), "{:?} was accepted", String::from_utf8_lossy(&bad));
        }
    }
}

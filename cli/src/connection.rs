//! A connection to a room in the JSON dialect: the URL (with the resume position), the
//! handshake (the subprotocol, and the token if any), events in and requests out, and the
//! pauses between attempts to connect again.

use crate::{format, tls};
use anyhow::{bail, Context};
use app::names::RoomName;
use app::protocol::{ClientMessage, Epoch, Seq, ServerEvent, SUBPROTOCOL};
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

pub type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Whom the client speaks as, and to which server.
#[derive(Debug, Clone)]
pub struct Who {
    pub server: String,
    pub token: Option<String>,
    pub name: Option<String>,
}

/// How long a handshake may take.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// The room's WebSocket URL: `ws://host/chat/ROOM` (`wss://` for an `https://` server), with the
/// guest's name and where to resume.
pub fn room_url(who: &Who, room: &RoomName, resume: Option<(Epoch, Seq)>) -> anyhow::Result<String> {
    let base = who.server.trim_end_matches('/');
    let base = if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if base.starts_with("ws://") || base.starts_with("wss://") {
        base.to_owned()
    } else {
        bail!("--server is an http://, https://, ws:// or wss:// address, not {base:?}")
    };
    let mut query = Vec::new();
    if let (None, Some(name)) = (&who.token, &who.name) {
        query.push(format!("name={}", encode(name)));
    }
    if let Some((epoch, after)) = resume {
        query.push(format!("after={after}&epoch={epoch}"));
    }
    let path = format!("/chat/{}", encode(room.as_str()));
    Ok(match query.is_empty() {
        true => format!("{base}{path}"),
        false => format!("{base}{path}?{}", query.join("&")),
    })
}

/// Percent-encodes all but the characters a URL leaves alone.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Connects to `room`, resuming after `resume` if given.
pub async fn connect(who: &Who, room: &RoomName, resume: Option<(Epoch, Seq)>) -> anyhow::Result<Ws> {
    let url = room_url(who, room, resume)?;
    let mut request = url.as_str().into_client_request().context("the room's address")?;
    request.headers_mut().insert("Sec-WebSocket-Protocol", SUBPROTOCOL.parse()?);
    if let Some(token) = &who.token {
        request
            .headers_mut()
            .insert("Authorization", format!("Bearer {token}").parse().context("the token")?);
    }
    let connector = match url.starts_with("wss://") {
        // No authority to trust a server by: no attempt could succeed.
        true => Some(tls::connector().map_err(|err| Refused(format!("{err:#}")))?),
        false => None,
    };
    let connecting = tokio_tungstenite::connect_async_tls_with_config(request, None, true, connector);
    let (ws, _) = match tokio::time::timeout(HANDSHAKE, connecting)
        .await
        .context("the server did not answer in time")?
    {
        Ok(connected) => connected,
        Err(err) => match refusal(&err) {
            Some(why) => return Err(Refused(why).into()),
            // tungstenite's I/O error repeats the one it wraps: the inner one says it once.
            None => {
                let err = match err {
                    tungstenite::Error::Io(io) => anyhow::Error::new(io),
                    other => anyhow::Error::new(other),
                };
                return Err(err.context(format!("connecting to {url}")));
            }
        },
    };
    Ok(ws)
}

/// A connection refused for what the client is or asked for (a certificate it cannot trust, a
/// token the server does not know, an address that is no chat room): trying again cannot help.
#[derive(Debug)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// Whether `err` (from `connect`) is a refusal, and why.
pub fn is_refused(err: &anyhow::Error) -> bool {
    err.downcast_ref::<Refused>().is_some()
}

/// Why a failed handshake will fail again the same way, if it will: TLS refused (the
/// certificate), the URL, or an HTTP answer that blames the request. Not a timeout (408), too
/// many requests (429), or the server's own trouble (5xx): those pass.
fn refusal(err: &tungstenite::Error) -> Option<String> {
    match err {
        tungstenite::Error::Tls(tls) => Some(format!("TLS: {tls}")),
        // The TLS handshake's failure, as rustls reports it through the stream.
        tungstenite::Error::Io(io) => io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .map(|tls| format!("TLS: {tls}")),
        tungstenite::Error::Url(url) => Some(format!("the server's address: {url}")),
        tungstenite::Error::Http(answer) => {
            let status = answer.status();
            if !status.is_client_error() || status.as_u16() == 408 || status.as_u16() == 429 {
                return None;
            }
            let said = answer.body().as_deref().map(String::from_utf8_lossy).unwrap_or_default();
            let said: String = said.trim().chars().take(200).collect();
            Some(format!("the server refused the connection ({status}): {}", format::safe(&said)))
        }
        _ => None,
    }
}

/// The next event, or `None` once the connection is closed (with the server's reason, if it
/// gave one). Events this client does not know (a newer server's) are passed over.
pub async fn next_event(ws: &mut Ws) -> anyhow::Result<Result<ServerEvent, Closed>> {
    loop {
        let Some(message) = ws.next().await else { return Ok(Err(Closed::default())) };
        match message {
            Ok(Message::Text(text)) => match serde_json::from_str::<ServerEvent>(&text) {
                Ok(event) => return Ok(Ok(event)),
                Err(_) => continue,
            },
            Ok(Message::Close(frame)) => {
                let (code, reason) =
                    frame.map(|f| (u16::from(f.code), f.reason.to_string())).unwrap_or_default();
                return Ok(Err(Closed { code, reason }));
            }
            Ok(_) => continue,
            Err(err) => return Err(err.into()),
        }
    }
}

/// How the server closed the connection.
#[derive(Debug, Default, Clone)]
pub struct Closed {
    pub code: u16,
    pub reason: String,
}

impl Closed {
    /// Whether connecting again can help: not after a refusal for what the client is or did.
    pub fn is_final(&self) -> bool {
        // 1008: a rule (a ban, a name registered to someone else); 1003/1007/1009: what was sent.
        matches!(self.code, 1003 | 1007 | 1008 | 1009)
    }
}

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.code, self.reason.as_str()) {
            (0, _) => write!(f, "the connection was lost"),
            (code, "") => write!(f, "the server closed the connection ({code})"),
            (code, reason) => write!(f, "the server closed the connection ({code}): {reason}"),
        }
    }
}

pub async fn send(ws: &mut Ws, message: &ClientMessage) -> anyhow::Result<()> {
    ws.send(Message::text(serde_json::to_string(message)?)).await?;
    Ok(())
}

/// Pauses between attempts to connect: from half a second, doubling up to ten, each give or
/// take a fifth (so that clients dropped together do not all come back together).
#[derive(Debug)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { next: Self::FIRST }
    }
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(500);
    const MOST: Duration = Duration::from_secs(10);

    pub fn pause(&mut self) -> Duration {
        let pause = self.next.mul_f64(0.8 + 0.4 * fastrand::f64());
        self.next = (self.next * 2).min(Self::MOST);
        pause
    }

    pub fn reset(&mut self) {
        self.next = Self::FIRST;
    }
}

/// The numbered entry an event stands for (where a client resumes after it).
pub fn numbered(event: &ServerEvent) -> Option<(Epoch, Seq)> {
    match event {
        ServerEvent::Message { id, epoch, .. }
        | ServerEvent::Edited { id, epoch, .. }
        | ServerEvent::Deleted { id, epoch, .. }
        | ServerEvent::Reacted { id, epoch, .. }
        | ServerEvent::Moderated { id, epoch, .. } => Some((*epoch, *id)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(name: Option<&str>, token: Option<&str>) -> Who {
        Who {
            server: "http://127.0.0.1:3000/".into(),
            token: token.map(str::to_owned),
            name: name.map(str::to_owned),
        }
    }

    #[test]
    fn a_room_is_reached_at_its_address_with_where_to_resume() {
        let room = RoomName::parse("den").unwrap_or_else(|_| unreachable!());
        let url = |w: &Who, resume| room_url(w, &room, resume).ok();
        assert_eq!(url(&who(None, None), None).as_deref(), Some("ws://127.0.0.1:3000/chat/den"));
        assert_eq!(
            url(&who(Some("zoë k"), None), Some((7, 41))).as_deref(),
            Some("ws://127.0.0.1:3000/chat/den?name=zo%C3%AB%20k&after=41&epoch=7")
        );
        assert_eq!(url(&who(Some("ann"), Some("t")), None).as_deref(), Some("ws://127.0.0.1:3000/chat/den"));
        let mut tls = who(None, None);
        tls.server = "https://chat.example.org".into();
        assert_eq!(url(&tls, None).as_deref(), Some("wss://chat.example.org/chat/den"));
        tls.server = "ftp://chat.example.org".into();
        assert!(room_url(&tls, &room, None).is_err());
    }

    #[test]
    fn pauses_grow_to_a_ceiling_and_start_again() {
        let mut backoff = Backoff::default();
        let pauses: Vec<_> = (0..8).map(|_| backoff.pause()).collect();
        assert!(pauses[0] <= Duration::from_millis(600));
        assert!(pauses[7] <= Duration::from_secs(12) && pauses[7] >= Duration::from_secs(8));
        backoff.reset();
        assert!(backoff.pause() <= Duration::from_millis(600));
    }
}

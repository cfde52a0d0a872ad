//! What the full-screen client knows and shows, and how it answers keys and the link's news.
//! It holds the same log, roster and outbox the web page holds (from `app`), so both clients
//! keep the same promises: a message typed offline is sent once the connection is back, shown
//! as waiting until the server has stored it, and never posted twice.

use super::command::{self, Command, HELP};
use super::editor::Editor;
use super::link::Up;
use app::log::{LineKind, RoomLog};
use app::names::{ClientId, MessageText, RoomName};
use app::outbox::{Outbox, Pending};
use app::protocol::{ClientMessage, ErrorCode, ServerEvent};
use app::roster::Roster;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::time::Duration;
use tokio::time::Instant;

/// The connection as the screen shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    Connecting,
    /// Open, `ready` not yet received.
    Open {
        generation: u64,
    },
    Ready {
        generation: u64,
    },
    Waiting {
        why: String,
        next: Instant,
    },
    Ended {
        why: String,
    },
}

/// What a key asks of the loop around the screen.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Stay,
    Quit,
}

#[derive(Debug)]
pub struct Screen {
    pub room: RoomName,
    pub log: RoomLog,
    pub roster: Roster,
    pub outbox: Outbox,
    pub editor: Editor,
    pub link: Link,
    /// The nickname the server gave this client.
    pub me: Option<String>,
    pub topic: String,
    /// Rows the log is scrolled up from its newest line.
    pub scroll: usize,
    /// Rows a page key moves: set from the log's height when it is drawn.
    pub page: usize,
    last_typing: Option<Instant>,
    /// When the pending messages are sent again after the server could not take them.
    retry_at: Option<Instant>,
    /// Quitting with messages unsent asks twice.
    quit_warned: bool,
}

/// How often the server is told that the reader is typing, at most (as the web page does).
const TYPING_EVERY: Duration = Duration::from_secs(3);
/// The pause before sending again what storage or slow mode refused (as the web page does).
const RETRY_AFTER: Duration = Duration::from_secs(3);

impl Screen {
    pub fn new(room: RoomName) -> Self {
        Self {
            room,
            log: RoomLog::default(),
            roster: Roster::default(),
            outbox: Outbox::default(),
            editor: Editor::default(),
            link: Link::Connecting,
            me: None,
            topic: String::new(),
            scroll: 0,
            page: 10,
            last_typing: None,
            retry_at: None,
            quit_warned: false,
        }
    }

    /// The connection requests go on, once it is ready.
    pub fn generation(&self) -> Option<u64> {
        match self.link {
            Link::Ready { generation } => Some(generation),
            _ => None,
        }
    }

    /// Takes in the link's news; returns what to send.
    pub fn apply(&mut self, up: Up) -> Vec<ClientMessage> {
        match up {
            Up::Connected { generation } => self.link = Link::Open { generation },
            Up::Waiting { why, next } => {
                if matches!(self.link, Link::Ready { .. }) {
                    self.notice(format!("Connection lost ({why}); connecting again."));
                }
                self.link = Link::Waiting { why, next };
            }
            Up::Ended { why } => {
                self.notice(format!("{why}. /quit to leave."));
                self.link = Link::Ended { why };
            }
            Up::Event(event) => return self.event(event),
        }
        Vec::new()
    }

    fn event(&mut self, event: ServerEvent) -> Vec<ClientMessage> {
        self.roster.apply(&event);
        self.log.apply(&event);
        match event {
            ServerEvent::Ready { you, .. } => {
                if let Link::Open { generation } = self.link {
                    self.link = Link::Ready { generation };
                }
                self.me = Some(you.to_string());
                self.retry_at = None;
                return self.pending();
            }
            ServerEvent::Rules { rules, .. } => self.topic = rules.topic,
            ServerEvent::Ack { client_id, .. } => self.outbox.acknowledge(&client_id),
            ServerEvent::Message { client_id: Some(client_id), .. } => self.outbox.acknowledge(&client_id),
            // Storage failed, or slow mode held a message back: the connection stays, and what is
            // pending is sent again after a pause (a resend is not stored twice).
            ServerEvent::Error { code: ErrorCode::Unavailable | ErrorCode::RateLimited, .. } => {
                self.retry_at = Some(Instant::now() + RETRY_AFTER);
            }
            // Timed out: nothing pending will be posted; the notice says until when.
            ServerEvent::Error { code: ErrorCode::TimedOut, .. } => self.outbox.clear(),
            _ => {}
        }
        Vec::new()
    }

    /// What is due at `now` (pending messages to send again); called on every tick.
    pub fn due(&mut self, now: Instant) -> Vec<ClientMessage> {
        match self.retry_at {
            Some(at) if at <= now => {
                self.retry_at = None;
                self.pending()
            }
            _ => Vec::new(),
        }
    }

    /// Every pending message, oldest first, if there is a connection to send them on.
    fn pending(&self) -> Vec<ClientMessage> {
        if self.generation().is_none() {
            return Vec::new();
        }
        self.outbox.iter().map(Pending::request).collect()
    }

    /// Answers a key press; `now` decides whether typing is announced again.
    pub fn key(&mut self, key: KeyEvent, now: Instant) -> (Outcome, Vec<ClientMessage>) {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let mut out = Vec::new();
        match key.code {
            KeyCode::Char('c') | KeyCode::Char('d') if ctrl => return (self.quit(), out),
            KeyCode::Char('u') if ctrl => self.editor.kill_before(),
            KeyCode::Char('w') if ctrl => self.editor.kill_word(),
            KeyCode::Char('a') if ctrl => self.editor.home(),
            KeyCode::Char('e') if ctrl => self.editor.end(),
            KeyCode::Char(c) if !ctrl && !key.modifiers.contains(KeyModifiers::ALT) => {
                self.editor.insert(c.encode_utf8(&mut [0; 4]));
                out.extend(self.typing(now));
            }
            KeyCode::Backspace => self.editor.backspace(),
            KeyCode::Delete => self.editor.delete(),
            KeyCode::Left => self.editor.left(),
            KeyCode::Right => self.editor.right(),
            KeyCode::Home => self.editor.home(),
            KeyCode::End => self.editor.end(),
            KeyCode::PageUp => self.scroll = self.scroll.saturating_add(self.page.max(1)),
            KeyCode::PageDown => self.scroll = self.scroll.saturating_sub(self.page.max(1)),
            KeyCode::Enter => return self.enter(),
            _ => {}
        }
        (Outcome::Stay, out)
    }

    /// Pasted text goes into the line as typed (line breaks as spaces: Enter posts).
    pub fn paste(&mut self, text: &str) {
        self.editor.insert(&text.replace(['\r', '\n'], " "));
    }

    fn typing(&mut self, now: Instant) -> Option<ClientMessage> {
        let recent = self.last_typing.is_some_and(|at| now.duration_since(at) < TYPING_EVERY);
        if recent || self.generation().is_none() || self.editor.text().starts_with('/') {
            return None;
        }
        self.last_typing = Some(now);
        Some(ClientMessage::Typing {})
    }

    fn quit(&mut self) -> Outcome {
        let waiting = self.outbox.len();
        if waiting == 0 || self.quit_warned {
            return Outcome::Quit;
        }
        self.quit_warned = true;
        let s = if waiting == 1 { "" } else { "s" };
        self.notice(format!("{waiting} message{s} not sent yet: quit again to leave without them."));
        Outcome::Stay
    }

    fn enter(&mut self) -> (Outcome, Vec<ClientMessage>) {
        let line = self.editor.take();
        self.scroll = 0;
        self.last_typing = None;
        let command = match command::parse(&line) {
            Ok(Some(command)) => command,
            Ok(None) => return (Outcome::Stay, Vec::new()),
            Err(why) => {
                self.notice(why);
                return (Outcome::Stay, Vec::new());
            }
        };
        let request = match command {
            Command::Quit => return (self.quit(), Vec::new()),
            Command::Help => {
                for line in HELP {
                    self.notice((*line).to_owned());
                }
                return (Outcome::Stay, Vec::new());
            }
            Command::Say(text) => return (Outcome::Stay, self.say(&text)),
            Command::Edit { target, text } => match MessageText::parse(&text) {
                Ok(text) => ClientMessage::Edit { target, text },
                Err(err) => {
                    self.notice(err.to_string());
                    return (Outcome::Stay, Vec::new());
                }
            },
            Command::Delete { target } => ClientMessage::Delete { target },
        };
        if self.generation().is_none() {
            self.notice("Not connected: edits and deletions wait for the connection.".to_owned());
            return (Outcome::Stay, Vec::new());
        }
        (Outcome::Stay, vec![request])
    }

    fn say(&mut self, text: &str) -> Vec<ClientMessage> {
        let text = match MessageText::parse(text) {
            Ok(text) => text,
            Err(err) => {
                self.notice(err.to_string());
                return Vec::new();
            }
        };
        let id = ClientId::from_random([fastrand::u32(..), fastrand::u32(..), fastrand::u32(..)]);
        let pending = Pending { id: id.clone(), text: text.clone(), reply_to: None };
        if let Err(refused) = self.outbox.push(pending) {
            self.notice(refused.to_string());
            return Vec::new();
        }
        self.quit_warned = false;
        match self.generation() {
            Some(_) => vec![ClientMessage::Send { id, text, reply_to: None }],
            None => Vec::new(),
        }
    }

    fn notice(&mut self, text: String) {
        self.log.push(LineKind::Notice { text });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::names::Nickname;

    fn room() -> RoomName {
        RoomName::parse("den").unwrap_or_else(|_| unreachable!())
    }

    fn ready(screen: &mut Screen, generation: u64) -> Vec<ClientMessage> {
        screen.apply(Up::Connected { generation });
        let you = Nickname::parse("ann").unwrap_or_else(|_| unreachable!());
        screen.apply(Up::Event(ServerEvent::Ready { protocol: 1, room: room(), you, epoch: 1, seq: 0 }))
    }

    fn typed(screen: &mut Screen, text: &str) -> Vec<ClientMessage> {
        let now = Instant::now();
        let mut out = Vec::new();
        for c in text.chars() {
            out.extend(screen.key(KeyEvent::from(KeyCode::Char(c)), now).1);
        }
        out.extend(screen.key(KeyEvent::from(KeyCode::Enter), now).1);
        out
    }

    fn sends(out: &[ClientMessage]) -> Vec<String> {
        out.iter()
            .filter_map(|m| match m {
                ClientMessage::Send { text, .. } => Some(text.to_string()),
                _ => None,
            })
            .collect()
    }

    #[tokio::test]
    async fn what_is_typed_offline_waits_and_is_sent_in_order_once_ready() {
        let mut screen = Screen::new(room());
        assert!(sends(&typed(&mut screen, "first")).is_empty(), "not connected: nothing sent");
        typed(&mut screen, "second");
        assert_eq!(screen.outbox.len(), 2);
        let out = ready(&mut screen, 1);
        assert_eq!(sends(&out), ["first", "second"]);
        // Sent as soon as typed once ready; typing announced before it.
        let out = typed(&mut screen, "third");
        assert!(matches!(out.first(), Some(ClientMessage::Typing {})));
        assert_eq!(sends(&out), ["third"]);
        // Lost before the acks: all three again on the next connection, and only then.
        screen.apply(Up::Waiting { why: "gone".into(), next: Instant::now() });
        assert_eq!(screen.generation(), None);
        assert_eq!(sends(&ready(&mut screen, 2)), ["first", "second", "third"]);
        assert_eq!(screen.generation(), Some(2));
        let first = screen.outbox.iter().next().map(|p| p.id.clone()).unwrap_or_else(|| unreachable!());
        screen.apply(Up::Event(ServerEvent::Ack { client_id: first, id: 1 }));
        assert_eq!(screen.outbox.len(), 2);
    }

    #[tokio::test]
    async fn refused_for_now_is_sent_again_later_and_a_timeout_drops_it() {
        let mut screen = Screen::new(room());
        ready(&mut screen, 1);
        typed(&mut screen, "hello");
        let busy = ServerEvent::Error { code: ErrorCode::Unavailable, message: "later".into() };
        screen.apply(Up::Event(busy));
        assert!(screen.due(Instant::now()).is_empty());
        assert_eq!(sends(&screen.due(Instant::now() + RETRY_AFTER)), ["hello"]);
        let out = ServerEvent::Error { code: ErrorCode::TimedOut, message: "until 10:00".into() };
        screen.apply(Up::Event(out));
        assert!(screen.outbox.is_empty());
    }

    #[tokio::test]
    async fn quitting_with_messages_unsent_asks_twice() {
        let mut screen = Screen::new(room());
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        typed(&mut screen, "unsent");
        assert_eq!(screen.key(ctrl_c, Instant::now()).0, Outcome::Stay);
        assert_eq!(screen.key(ctrl_c, Instant::now()).0, Outcome::Quit);
        let mut empty = Screen::new(room());
        assert_eq!(empty.key(ctrl_c, Instant::now()).0, Outcome::Quit);
    }

    #[tokio::test]
    async fn commands_are_not_posted() {
        let mut screen = Screen::new(room());
        ready(&mut screen, 1);
        assert!(typed(&mut screen, "/nope").is_empty());
        assert!(typed(&mut screen, "/help").is_empty());
        let out = typed(&mut screen, "/edit 4 fixed");
        assert!(matches!(out.as_slice(), [ClientMessage::Edit { target: 4, .. }]), "{out:?}");
        assert_eq!(sends(&typed(&mut screen, "//me waves")), ["/me waves"]);
    }
}

//! `chat-cli join ROOM`: the room full screen. The log with the members beside it, a status
//! line, and a line to type in; the connection kept up by [`link`] (reconnects with growing
//! pauses, resumes where it stopped), and what is typed kept in an outbox until stored.

mod command;
mod editor;
mod link;
mod screen;
mod view;

use crate::connection::Who;
use anyhow::Context;
use app::names::RoomName;
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures_util::StreamExt;
use link::Down;
use screen::{Outcome, Screen};
use std::time::Duration;
use tokio::sync::mpsc;

/// How often the screen is drawn again with nothing happening (the countdown to the next
/// attempt, pauses that are due).
const TICK: Duration = Duration::from_millis(500);

pub async fn run(who: &Who, room: &RoomName) -> anyhow::Result<()> {
    let (mut up, down) = link::spawn(who.clone(), room.clone());
    let mut screen = Screen::new(room.clone());
    let mut terminal = Terminal::enter()?;
    let mut keys = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    loop {
        terminal.0.draw(|frame| view::draw(frame, &mut screen)).context("drawing")?;
        let out = tokio::select! {
            input = keys.next() => match input {
                Some(Ok(Event::Key(key))) if key.kind != KeyEventKind::Release => {
                    let (outcome, out) = screen.key(key, tokio::time::Instant::now());
                    if outcome == Outcome::Quit {
                        break;
                    }
                    out
                }
                Some(Ok(Event::Paste(text))) => {
                    screen.paste(&text);
                    Vec::new()
                }
                Some(Ok(_)) => Vec::new(),
                Some(Err(err)) => return Err(err).context("reading the terminal"),
                None => break,
            },
            news = up.recv(), if !up.is_closed() || !up.is_empty() => match news {
                Some(news) => screen.apply(news),
                // The link has ended (the screen says why); the reader leaves when they like.
                None => Vec::new(),
            },
            _ = tick.tick() => screen.due(tokio::time::Instant::now()),
        };
        send(&down, &screen, out);
    }
    drop(terminal);
    Ok(())
}

/// Hands requests to the link for the connection that is ready now. A full queue drops the
/// request: messages among them are still in the outbox, sent again after the next `ready`.
fn send(down: &mpsc::Sender<Down>, screen: &Screen, out: Vec<app::protocol::ClientMessage>) {
    let Some(generation) = screen.generation() else { return };
    for message in out {
        let _ = down.try_send(Down { generation, message });
    }
}

/// The terminal in raw mode on the alternate screen, for as long as this lives: dropping it
/// (at the end, or on an error) gives the reader their terminal back as it was.
struct Terminal(ratatui::DefaultTerminal);

impl Terminal {
    fn enter() -> anyhow::Result<Self> {
        let terminal = ratatui::try_init().context("the terminal (is this an interactive terminal?)")?;
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::EnableBracketedPaste);
        Ok(Self(terminal))
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableBracketedPaste);
        let _ = ratatui::try_restore();
    }
}

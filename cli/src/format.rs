//! Events as lines of a terminal. Everything from the network is shown as text: control
//! characters (which could move the cursor, recolour or clear the screen) and the marks that
//! reorder text (bidirectional overrides) are shown as their code points, never obeyed.

use app::protocol::{Millis, ServerEvent};

/// The line an event shows as, if it shows: `None` for what a reader does not read (acks,
/// pongs, typing).
pub fn line(event: &ServerEvent) -> Option<String> {
    Some(match event {
        ServerEvent::Message { id, author, at, deleted: true, .. } => {
            format!("{} {}: (deleted)  #{id}", clock(*at), safe(author.as_str()))
        }
        ServerEvent::Message { id, author, text, at, edited, .. } => {
            let edited = if edited.is_some() { " (edited)" } else { "" };
            format!("{} {}: {}{edited}  #{id}", clock(*at), safe(author.as_str()), safe(text.as_str()))
        }
        ServerEvent::Edited { target, text, by, at, .. } => {
            format!("{} * {} edited #{target}: {}", clock(*at), safe(by.as_str()), safe(text.as_str()))
        }
        ServerEvent::Deleted { target, by, at, .. } => {
            format!("{} * {} deleted #{target}", clock(*at), safe(by.as_str()))
        }
        ServerEvent::Reacted { target, emoji, on: true, by, at, .. } => {
            format!("{} * {} reacted {} to #{target}", clock(*at), safe(by.as_str()), emoji.as_str())
        }
        ServerEvent::Reacted { target, emoji, on: false, by, at, .. } => {
            format!("{} * {} took back {} on #{target}", clock(*at), safe(by.as_str()), emoji.as_str())
        }
        ServerEvent::Moderated { by, action, at, .. } => {
            format!("{} * {}", clock(*at), safe(&action.describe(by)))
        }
        ServerEvent::Joined { name, at, .. } => format!("{} -> {} joined", clock(*at), safe(name.as_str())),
        ServerEvent::Left { name, at, .. } => format!("{} <- {} left", clock(*at), safe(name.as_str())),
        ServerEvent::Reset { .. } => {
            "-- the room's log began again: its recent messages follow --".to_owned()
        }
        ServerEvent::Error { message, .. } => format!("!! {}", safe(message)),
        _ => return None,
    })
}

/// Hours and minutes of `at`, in UTC (a terminal client has no time zone it can trust to be the
/// reader's; UTC is never wrong).
pub fn clock(at: Millis) -> String {
    let minutes = at.div_euclid(60_000);
    format!("{:02}:{:02}", minutes.div_euclid(60).rem_euclid(24), minutes.rem_euclid(60))
}

/// `text` with what a terminal would act on made visible: line breaks become `⏎` and an
/// indent, tabs stay, other control and bidirectional formatting characters become `<U+XXXX>`.
pub fn safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str(" ⏎ "),
            '\t' => out.push('\t'),
            c if c.is_control() || is_bidi_control(c) => out.push_str(&format!("<U+{:04X}>", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// The characters that reorder what follows them (Unicode's bidirectional controls): a
/// message could otherwise make the next author's name read backwards.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_the_network_cannot_drive_the_terminal() {
        assert_eq!(safe("plain"), "plain");
        assert_eq!(safe("\u{1b}[2J\u{1b}]0;pwned\u{7}"), "<U+001B>[2J<U+001B>]0;pwned<U+0007>");
        assert_eq!(safe("a\nb"), "a ⏎ b");
        assert_eq!(safe("x\u{202E}gnp.exe"), "x<U+202E>gnp.exe");
        assert_eq!(safe("\u{9b}31m"), "<U+009B>31m", "C1 controls too");
    }

    #[test]
    fn times_are_utc_hours_and_minutes() {
        assert_eq!(clock(0), "00:00");
        assert_eq!(clock(1_763_744_401_000), "17:00");
        assert_eq!(clock(86_400_000 + 61_000), "00:01");
    }
}

//! The seeds' plain-text dialect (SEED-PROTOCOLS.md section 2), line for line.

use app::names::{MessageText, NameError, Nickname};

/// Sent to the whole room, the newcomer included, when someone joins.
pub fn welcome(name: &Nickname) -> String {
    format!("Welcome, {name} !")
}

/// Sent to the whole room for each message.
pub fn message(author: &Nickname, text: &MessageText) -> String {
    format!("{author}:{text}")
}

/// Sent to the whole room when someone leaves, by `quit` or by closing.
pub fn logout(name: &Nickname) -> String {
    format!("{name} Logout")
}

/// What a plain-text client's text frame asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// Exactly `quit`: announce the logout and close this connection.
    Quit,
    Say(MessageText),
    /// Blank text: the seeds' page refuses to send it, and the dialect has no way to say why,
    /// so it is dropped.
    Nothing,
    /// Longer than a chat message may be.
    TooLong,
}

pub fn parse(text: &str) -> Command {
    if text == "quit" {
        return Command::Quit;
    }
    match MessageText::parse(text) {
        Ok(text) => Command::Say(text),
        Err(NameError::TooLong { .. }) => Command::TooLong,
        Err(_) => Command::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nick(s: &str) -> Nickname {
        Nickname::parse(s).unwrap()
    }

    #[test]
    fn the_seed_lines() {
        assert_eq!(welcome(&nick("alice")), "Welcome, alice !");
        assert_eq!(message(&nick("alice"), &MessageText::parse("hello there").unwrap()), "alice:hello there");
        assert_eq!(logout(&nick("alice")), "alice Logout");
    }

    #[test]
    fn text_is_relayed_verbatim() {
        let text = MessageText::parse("a:b  <i>c</i>\nd").unwrap();
        assert_eq!(message(&nick("bob"), &text), "bob:a:b  <i>c</i>\nd");
    }

    #[test]
    fn commands() {
        assert_eq!(parse("quit"), Command::Quit);
        assert_eq!(parse("quit "), Command::Say(MessageText::parse("quit ").unwrap()));
        assert_eq!(parse("Quit"), Command::Say(MessageText::parse("Quit").unwrap()));
        assert_eq!(parse(""), Command::Nothing);
        assert_eq!(parse("  "), Command::Nothing);
        assert_eq!(parse(&"x".repeat(MessageText::MAX_BYTES + 1)), Command::TooLong);
    }
}

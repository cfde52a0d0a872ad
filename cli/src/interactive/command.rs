//! What a line typed in the room asks for: a message, or one of a few commands. A line that
//! starts with `/` is never posted by accident: an unknown command is an error, and `//` posts
//! a message that starts with `/`.

use app::protocol::Seq;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Say(String),
    Edit { target: Seq, text: String },
    Delete { target: Seq },
    Help,
    Quit,
}

/// What `/help` shows.
pub const HELP: &[&str] = &[
    "Enter posts the line; messages typed while offline are sent when the connection is back.",
    "/edit N TEXT: your message #N now reads TEXT.   /delete N: deletes message #N.",
    "/quit (or Ctrl-C): leaves.   //text: posts \"/text\".",
    "PageUp, PageDown: scroll the room.   Ctrl-U, Ctrl-W: delete the line, a word.",
];

/// The command a line stands for; `Ok(None)` for a blank line.
pub fn parse(line: &str) -> Result<Option<Command>, String> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    if let Some(literal) = line.strip_prefix("//") {
        return Ok(Some(Command::Say(format!("/{literal}"))));
    }
    let Some(command) = line.strip_prefix('/') else { return Ok(Some(Command::Say(line.to_owned()))) };
    let (verb, rest) = command.split_once(char::is_whitespace).unwrap_or((command, ""));
    let rest = rest.trim_start();
    match verb {
        "quit" | "exit" => Ok(Some(Command::Quit)),
        "help" => Ok(Some(Command::Help)),
        "edit" => {
            let (number, text) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            let target = number_of(number, "/edit N TEXT")?;
            let text = text.trim_start();
            if text.is_empty() {
                return Err("/edit N TEXT: the new text is missing".to_owned());
            }
            Ok(Some(Command::Edit { target, text: text.to_owned() }))
        }
        "delete" => Ok(Some(Command::Delete { target: number_of(rest.trim(), "/delete N")? })),
        _ => Err(format!("no command /{verb}: /help lists them (//{verb} posts it as a message)")),
    }
}

/// A message's number as typed: `12` or `#12`.
fn number_of(word: &str, usage: &str) -> Result<Seq, String> {
    word.trim_start_matches('#')
        .parse::<Seq>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{usage}: N is a message's number (shown as #N after it)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_messages_unless_they_are_commands() {
        assert_eq!(parse("  "), Ok(None));
        assert_eq!(parse("hi /all"), Ok(Some(Command::Say("hi /all".into()))));
        assert_eq!(parse("//shrug"), Ok(Some(Command::Say("/shrug".into()))));
        assert_eq!(parse("/quit"), Ok(Some(Command::Quit)));
        assert_eq!(parse("/help"), Ok(Some(Command::Help)));
        assert_eq!(
            parse("/edit #12 better  words"),
            Ok(Some(Command::Edit { target: 12, text: "better  words".into() }))
        );
        assert_eq!(parse("/delete 3"), Ok(Some(Command::Delete { target: 3 })));
    }

    #[test]
    fn a_mistyped_command_is_explained_not_posted() {
        assert!(parse("/shrug").is_err_and(|e| e.contains("//shrug")));
        assert!(parse("/edit 12").is_err());
        assert!(parse("/edit x words").is_err());
        assert!(parse("/delete").is_err());
        assert!(parse("/delete 0").is_err());
    }
}

//! Reactions: a small, fixed set of emoji that people put on a message without writing a line.
//! The set is fixed (as on Zulip's and Slack's quick bar, not an open field) so that every
//! client can show it, a reaction cannot carry text, and a message's reactions stay small.

use crate::names::Nickname;
use serde::{Deserialize, Serialize};

/// One of the emoji a message can be reacted to with. On the wire, the emoji itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Emoji {
    #[serde(rename = "👍")]
    ThumbsUp,
    #[serde(rename = "❤️")]
    Heart,
    #[serde(rename = "😂")]
    Laugh,
    #[serde(rename = "🎉")]
    Party,
    #[serde(rename = "😮")]
    Surprised,
    #[serde(rename = "😢")]
    Sad,
}

impl Emoji {
    /// Every one, in the order a picker shows them.
    pub const ALL: [Self; 6] =
        [Self::ThumbsUp, Self::Heart, Self::Laugh, Self::Party, Self::Surprised, Self::Sad];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ThumbsUp => "👍",
            Self::Heart => "❤️",
            Self::Laugh => "😂",
            Self::Party => "🎉",
            Self::Surprised => "😮",
            Self::Sad => "😢",
        }
    }

    /// Its name, for screen readers and tooltips.
    pub fn label(self) -> &'static str {
        match self {
            Self::ThumbsUp => "thumbs up",
            Self::Heart => "heart",
            Self::Laugh => "laughing",
            Self::Party => "party",
            Self::Surprised => "surprised",
            Self::Sad => "sad",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|emoji| emoji.as_str() == raw)
    }
}

/// Everyone who reacted to a message with one emoji, in the order they did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub emoji: Emoji,
    pub by: Vec<Nickname>,
}

/// A message's reactions, in the order each emoji was first used; no emoji without people.
/// Whatever is read (from a peer, from a database column) is checked as [`Reactions::set`]
/// keeps them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Reaction>", into = "Vec<Reaction>")]
pub struct Reactions(Vec<Reaction>);

/// Why a reaction was not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReactionRefusal {
    /// Already so: reacting twice, or taking back what was not there.
    #[error("that reaction is already so")]
    Unchanged,
    #[error("this message has as many reactions as a message may have ({MAX_REACTIONS})")]
    Full,
}

/// The most reactions one message holds, all emoji together: its history entry stays a few
/// kilobytes however large the room.
pub const MAX_REACTIONS: usize = 256;

impl Reactions {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Reaction> {
        self.0.iter()
    }

    /// How many reactions, all emoji together.
    pub fn count(&self) -> usize {
        self.0.iter().map(|r| r.by.len()).sum()
    }

    /// Whether `name` reacted with `emoji`. Names compare as the room's roles do (ASCII case
    /// aside), since a nickname is one person's whatever its case.
    pub fn has(&self, emoji: Emoji, name: &Nickname) -> bool {
        self.0.iter().any(|r| r.emoji == emoji && r.by.iter().any(|n| same(n, name)))
    }

    /// Adds (`on`) or takes back `name`'s `emoji`.
    pub fn set(&mut self, emoji: Emoji, name: &Nickname, on: bool) -> Result<(), ReactionRefusal> {
        if self.has(emoji, name) == on {
            return Err(ReactionRefusal::Unchanged);
        }
        if on {
            if self.count() >= MAX_REACTIONS {
                return Err(ReactionRefusal::Full);
            }
            match self.0.iter_mut().find(|r| r.emoji == emoji) {
                Some(reaction) => reaction.by.push(name.clone()),
                None => self.0.push(Reaction { emoji, by: vec![name.clone()] }),
            }
        } else {
            for reaction in &mut self.0 {
                if reaction.emoji == emoji {
                    reaction.by.retain(|n| !same(n, name));
                }
            }
            self.0.retain(|r| !r.by.is_empty());
        }
        Ok(())
    }
}

impl TryFrom<Vec<Reaction>> for Reactions {
    type Error = &'static str;

    /// No emoji twice, nobody twice under one, none without people, at most [`MAX_REACTIONS`].
    fn try_from(reactions: Vec<Reaction>) -> Result<Self, Self::Error> {
        let reactions = Self(reactions);
        let mut seen = Vec::new();
        for reaction in &reactions.0 {
            if reaction.by.is_empty() || seen.contains(&reaction.emoji) {
                return Err("an emoji without people, or listed twice");
            }
            seen.push(reaction.emoji);
            for (i, name) in reaction.by.iter().enumerate() {
                if reaction.by[..i].iter().any(|n| same(n, name)) {
                    return Err("a person listed twice under one emoji");
                }
            }
        }
        if reactions.count() > MAX_REACTIONS {
            return Err("more reactions than a message may have");
        }
        Ok(reactions)
    }
}

impl From<Reactions> for Vec<Reaction> {
    fn from(reactions: Reactions) -> Self {
        reactions.0
    }
}

fn same(a: &Nickname, b: &Nickname) -> bool {
    a.as_str().eq_ignore_ascii_case(b.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nick(s: &str) -> Nickname {
        Nickname::parse(s).unwrap()
    }

    #[test]
    fn reactions_toggle_per_person_and_emoji() {
        let mut r = Reactions::default();
        assert_eq!(r.set(Emoji::ThumbsUp, &nick("ann"), true), Ok(()));
        assert_eq!(r.set(Emoji::ThumbsUp, &nick("ANN"), true), Err(ReactionRefusal::Unchanged));
        assert_eq!(r.set(Emoji::Heart, &nick("bob"), true), Ok(()));
        assert_eq!(r.set(Emoji::ThumbsUp, &nick("bob"), true), Ok(()));
        assert_eq!(r.count(), 3);
        assert!(r.has(Emoji::ThumbsUp, &nick("bob")));
        assert_eq!(r.set(Emoji::Heart, &nick("bob"), false), Ok(()));
        assert_eq!(r.set(Emoji::Heart, &nick("bob"), false), Err(ReactionRefusal::Unchanged));
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"[{"emoji":"👍","by":["ann","bob"]}]"#,
            "an emoji nobody uses any more is gone"
        );
    }

    #[test]
    fn a_message_holds_a_bounded_number_of_reactions() {
        let mut r = Reactions::default();
        for i in 0..MAX_REACTIONS {
            r.set(Emoji::ALL[i % 6], &nick(&format!("p{i}")), true).unwrap();
        }
        assert_eq!(r.set(Emoji::Sad, &nick("late"), true), Err(ReactionRefusal::Full));
        assert_eq!(r.set(Emoji::ThumbsUp, &nick("p0"), false), Ok(()), "taking back is always possible");
    }

    #[test]
    fn emoji_are_their_own_wire_form_and_nothing_else_is_one() {
        for emoji in Emoji::ALL {
            let json = serde_json::to_string(&emoji).unwrap();
            assert_eq!(json, format!("\"{}\"", emoji.as_str()));
            assert_eq!(serde_json::from_str::<Emoji>(&json).ok(), Some(emoji));
            assert_eq!(Emoji::parse(emoji.as_str()), Some(emoji));
        }
        for bad in [r#""x""#, r#""👎""#, r#""<b>""#, "1"] {
            assert!(serde_json::from_str::<Emoji>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn read_back_reactions_are_checked() {
        let read = |json: &str| serde_json::from_str::<Reactions>(json);
        assert!(read(r#"[{"emoji":"👍","by":["ann"]}]"#).is_ok());
        assert!(read(r#"[{"emoji":"👍","by":[]}]"#).is_err());
        assert!(read(r#"[{"emoji":"👍","by":["a"]},{"emoji":"👍","by":["b"]}]"#).is_err());
        assert!(read(r#"[{"emoji":"👍","by":["a","A"]}]"#).is_err());
    }
}

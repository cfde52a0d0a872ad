//! The line being typed: its text and where the cursor is in it (counted in characters, so that
//! moving and deleting never split one).

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Editor {
    text: String,
    /// Characters before the cursor.
    cursor: usize,
}

impl Editor {
    /// Longest line the editor holds, in bytes: a little over a message's limit, so that the
    /// server's own message about length is what the reader sees, not a silent stop.
    pub const MAX_BYTES: usize = 8 * 1024;

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Inserts `s` at the cursor (typed or pasted), as far as it fits. Control characters are
    /// left out (a tab becomes a space): the line shows as it will be posted.
    pub fn insert(&mut self, s: &str) {
        for c in s.chars() {
            let c = if c == '\t' { ' ' } else { c };
            if c.is_control() {
                continue;
            }
            if self.text.len() + c.len_utf8() > Self::MAX_BYTES {
                break;
            }
            let at = self.byte_at(self.cursor);
            self.text.insert(at, c);
            self.cursor += 1;
        }
    }

    pub fn backspace(&mut self) {
        if self.cursor > 0 {
            self.cursor -= 1;
            let at = self.byte_at(self.cursor);
            self.text.remove(at);
        }
    }

    pub fn delete(&mut self) {
        if self.cursor < self.len() {
            let at = self.byte_at(self.cursor);
            self.text.remove(at);
        }
    }

    pub fn left(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }

    pub fn right(&mut self) {
        self.cursor = (self.cursor + 1).min(self.len());
    }

    pub fn home(&mut self) {
        self.cursor = 0;
    }

    pub fn end(&mut self) {
        self.cursor = self.len();
    }

    /// Deletes what is before the cursor (a terminal's Ctrl-U).
    pub fn kill_before(&mut self) {
        let at = self.byte_at(self.cursor);
        self.text.replace_range(..at, "");
        self.cursor = 0;
    }

    /// Deletes the word before the cursor (a terminal's Ctrl-W).
    pub fn kill_word(&mut self) {
        let chars: Vec<char> = self.text.chars().take(self.cursor).collect();
        let mut start = chars.len();
        while start > 0 && chars[start - 1].is_whitespace() {
            start -= 1;
        }
        while start > 0 && !chars[start - 1].is_whitespace() {
            start -= 1;
        }
        let (from, to) = (self.byte_at(start), self.byte_at(self.cursor));
        self.text.replace_range(from..to, "");
        self.cursor = start;
    }

    /// The line, leaving the editor empty.
    pub fn take(&mut self) -> String {
        self.cursor = 0;
        std::mem::take(&mut self.text)
    }

    fn len(&self) -> usize {
        self.text.chars().count()
    }

    fn byte_at(&self, chars: usize) -> usize {
        self.text.char_indices().nth(chars).map_or(self.text.len(), |(i, _)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_happen_at_the_cursor_by_whole_characters() {
        let mut e = Editor::default();
        e.insert("zoë");
        e.left();
        e.backspace();
        assert_eq!((e.text(), e.cursor()), ("zë", 1));
        e.insert("ø");
        e.home();
        e.delete();
        e.end();
        e.insert("!");
        assert_eq!((e.text(), e.cursor()), ("øë!", 3));
        e.right();
        assert_eq!(e.cursor(), 3, "not past the end");
        assert_eq!(e.take(), "øë!");
        assert!(e.text().is_empty() && e.cursor() == 0);
    }

    #[test]
    fn words_and_the_start_of_the_line_are_killed_as_in_a_shell() {
        let mut e = Editor::default();
        e.insert("hello big  world");
        e.kill_word();
        assert_eq!(e.text(), "hello big  ");
        e.kill_word();
        assert_eq!(e.text(), "hello ");
        e.insert("there");
        e.left();
        e.kill_before();
        assert_eq!((e.text(), e.cursor()), ("e", 0));
    }

    #[test]
    fn control_characters_are_not_typed() {
        let mut e = Editor::default();
        e.insert("a\u{1b}[2J\tb\r");
        assert_eq!(e.text(), "a[2J b");
    }

    #[test]
    fn the_line_is_bounded() {
        let mut e = Editor::default();
        e.insert(&"é".repeat(Editor::MAX_BYTES));
        assert_eq!(e.text().len(), Editor::MAX_BYTES);
        e.insert("x");
        assert_eq!(e.text().len(), Editor::MAX_BYTES);
    }
}

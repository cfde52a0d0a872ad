//! The formatting a message may use: code spans and blocks, bold, italics and quotes, written as
//! Markdown (CommonMark, read by `pulldown-cmark`). A message becomes a small tree of our own,
//! which the page draws with its own elements: no HTML string is ever made from it. Everything
//! else Markdown knows (headings, lists, links, images, HTML) stays the text it was written as.
//! Line breaks are kept as written, as a chat reader expects.
//!
//! The server reads the text and sends the tree with the message (`markup`), only when the text
//! uses some formatting: the page draws it and carries no Markdown reader of its own (one weighs
//! more than a third of the rest of the page's code).

use serde::{Deserialize, Serialize};

/// A message's formatting, block by block.
pub type Markup = Vec<Block>;

/// A block of a message. On the wire: `{"p": [...]}`, `{"quote": [...]}`, `{"pre": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Block {
    #[serde(rename = "p")]
    Paragraph(Vec<Inline>),
    #[serde(rename = "quote")]
    Quote(Vec<Block>),
    /// A code block: its text, as written.
    #[serde(rename = "pre")]
    Code(String),
}

/// A piece of a paragraph. On the wire: `{"t": "..."}`, `{"code": "..."}`, `{"b": [...]}`,
/// `{"i": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Inline {
    /// Text (where links and mentions are found in turn).
    #[serde(rename = "t")]
    Text(String),
    #[serde(rename = "code")]
    Code(String),
    #[serde(rename = "b")]
    Strong(Vec<Inline>),
    #[serde(rename = "i")]
    Emphasis(Vec<Inline>),
}

/// The formatting of `text`, if it uses any (`None`: it reads as written, in one paragraph).
#[cfg(any(feature = "ssr", test))]
pub fn formatting(text: &str) -> Option<Markup> {
    let blocks = reader::parse(text);
    let plain = matches!(blocks.as_slice(), [Block::Paragraph(items)]
        if matches!(items.as_slice(), [Inline::Text(t)] if t == text));
    (!plain).then_some(blocks)
}

#[cfg(any(feature = "ssr", test))]
pub use reader::parse;

#[cfg(any(feature = "ssr", test))]
mod reader {
    use super::{Block, Inline};
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    use std::ops::Range;

    /// What is being built: the open blocks and spans, innermost last.
    enum Open {
        Quote(Vec<Block>),
        Paragraph(Vec<Inline>),
        Strong(Vec<Inline>),
        Emphasis(Vec<Inline>),
        Code(String),
        /// Something shown as written: its source is taken whole, and what Markdown reads inside it
        /// is skipped until it ends.
        Verbatim,
    }

    struct Builder<'a> {
        source: &'a str,
        done: Vec<Block>,
        open: Vec<Open>,
    }

    impl Builder<'_> {
        /// Inline content, into the innermost paragraph or span (a paragraph is opened for text that
        /// has none, as for the source of a heading).
        fn inline(&mut self, inline: Inline) {
            let target = match self.open.last_mut() {
                Some(Open::Paragraph(items) | Open::Strong(items) | Open::Emphasis(items)) => items,
                Some(Open::Code(code)) => {
                    if let Inline::Text(text) = inline {
                        code.push_str(&text);
                    }
                    return;
                }
                Some(Open::Verbatim) => return,
                Some(Open::Quote(_)) | None => {
                    self.open.push(Open::Paragraph(Vec::new()));
                    return self.inline(inline);
                }
            };
            // Neighbouring text is one piece, so that a link or a mention is found whole.
            match (target.last_mut(), inline) {
                (Some(Inline::Text(before)), Inline::Text(text)) => before.push_str(&text),
                (_, inline) => target.push(inline),
            }
        }

        fn block(&mut self, block: Block) {
            match self.open.last_mut() {
                Some(Open::Quote(blocks)) => blocks.push(block),
                _ => self.done.push(block),
            }
        }

        /// Closes the paragraph opened for loose text, if one is.
        fn close_loose(&mut self) {
            if matches!(self.open.last(), Some(Open::Paragraph(_))) {
                if let Some(Open::Paragraph(items)) = self.open.pop() {
                    self.block(Block::Paragraph(items));
                }
            }
        }

        fn verbatim(&self) -> bool {
            self.open.iter().any(|o| matches!(o, Open::Verbatim))
        }

        fn start(&mut self, tag: Tag<'_>, range: Range<usize>) {
            if self.verbatim() {
                return self.open.push(Open::Verbatim);
            }
            match tag {
                Tag::Paragraph => self.open.push(Open::Paragraph(Vec::new())),
                Tag::BlockQuote(_) => {
                    self.close_loose();
                    self.open.push(Open::Quote(Vec::new()))
                }
                Tag::CodeBlock(_) => {
                    self.close_loose();
                    self.open.push(Open::Code(String::new()))
                }
                Tag::Strong => self.open.push(Open::Strong(Vec::new())),
                Tag::Emphasis => self.open.push(Open::Emphasis(Vec::new())),
                _ => {
                    // Shown as written: a block as a paragraph of its own, a span inside its own.
                    let source = self.source.get(range).unwrap_or_default();
                    let block = !matches!(tag, Tag::Link { .. } | Tag::Image { .. });
                    if block {
                        self.close_loose();
                        let text = source.trim_end_matches('\n').to_owned();
                        self.block(Block::Paragraph(vec![Inline::Text(text)]));
                    } else {
                        self.inline(Inline::Text(source.to_owned()));
                    }
                    self.open.push(Open::Verbatim);
                }
            }
        }

        fn end(&mut self, tag: TagEnd) {
            let Some(open) = self.open.pop() else { return };
            match open {
                Open::Verbatim => {}
                Open::Paragraph(items) => self.block(Block::Paragraph(items)),
                Open::Quote(blocks) => {
                    self.close_loose();
                    self.block(Block::Quote(blocks))
                }
                Open::Code(mut code) => {
                    if code.ends_with('\n') {
                        code.pop();
                    }
                    self.block(Block::Code(code))
                }
                Open::Strong(items) => self.inline(Inline::Strong(items)),
                Open::Emphasis(items) => self.inline(Inline::Emphasis(items)),
            }
            // A loose paragraph ends with the block around it.
            if matches!(tag, TagEnd::BlockQuote(_)) {
                self.close_loose();
            }
        }
    }

    /// Reads `text` into blocks. Joined as the page shows them, they give back the text, less the
    /// marks of the formatting it uses.
    pub fn parse(text: &str) -> Vec<Block> {
        let mut builder = Builder { source: text, done: Vec::new(), open: Vec::new() };
        for (event, range) in Parser::new_ext(text, Options::empty()).into_offset_iter() {
            match event {
                Event::Start(tag) => builder.start(tag, range),
                Event::End(tag) => builder.end(tag),
                Event::Text(t) => builder.inline(Inline::Text(t.into_string())),
                Event::Code(t) => builder.inline(Inline::Code(t.into_string())),
                Event::SoftBreak | Event::HardBreak => builder.inline(Inline::Text("\n".to_owned())),
                // HTML, and whatever else the options leave out, is text.
                Event::Html(t) | Event::InlineHtml(t) => {
                    let t = if builder.open.is_empty() {
                        t.trim_end_matches('\n').to_owned()
                    } else {
                        t.into_string()
                    };
                    builder.inline(Inline::Text(t));
                }
                _ => {
                    let source = text.get(range).unwrap_or_default().trim_end_matches('\n').to_owned();
                    builder.inline(Inline::Text(source));
                }
            }
        }
        while !builder.open.is_empty() {
            builder.end(TagEnd::Paragraph);
        }
        builder.done
    }
}

/// The text the reader sees of `blocks`, formatting marks left out, blocks on lines of their own.
pub fn plain(blocks: &[Block]) -> String {
    fn inline(out: &mut String, items: &[Inline]) {
        for item in items {
            match item {
                Inline::Text(t) | Inline::Code(t) => out.push_str(t),
                Inline::Strong(items) | Inline::Emphasis(items) => inline(out, items),
            }
        }
    }
    let mut out = String::new();
    for (i, block) in blocks.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match block {
            Block::Paragraph(items) => inline(&mut out, items),
            Block::Quote(blocks) => out.push_str(&plain(blocks)),
            Block::Code(code) => out.push_str(code),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Block::{Code as CodeBlock, Paragraph, Quote};
    use super::Inline::{Code, Emphasis, Strong, Text};
    use super::*;

    fn text(t: &str) -> Inline {
        Text(t.to_owned())
    }

    #[test]
    fn the_subset_is_formatted() {
        assert_eq!(
            parse("a **bold** and *it* with `x < y`"),
            [Paragraph(vec![
                text("a "),
                Strong(vec![text("bold")]),
                text(" and "),
                Emphasis(vec![text("it")]),
                text(" with "),
                Code("x < y".to_owned())
            ])]
        );
        assert_eq!(parse("```\nfn main() {}\n  x\n```"), [CodeBlock("fn main() {}\n  x".to_owned())]);
        assert_eq!(
            parse("> quoted\n> **twice**\n\nanswer"),
            [
                Quote(vec![Paragraph(vec![text("quoted\n"), Strong(vec![text("twice")])])]),
                Paragraph(vec![text("answer")])
            ]
        );
        assert_eq!(parse("_under_"), [Paragraph(vec![Emphasis(vec![text("under")])])]);
    }

    #[test]
    fn line_breaks_are_kept() {
        assert_eq!(parse("one\ntwo"), [Paragraph(vec![text("one\ntwo")])]);
        assert_eq!(parse("one\n\ntwo"), [Paragraph(vec![text("one")]), Paragraph(vec![text("two")])]);
    }

    #[test]
    fn everything_else_stays_as_written() {
        for source in [
            "# not a heading",
            "- not\n- a list",
            "1. one",
            "---",
            "<b>not bold</b>",
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
        ] {
            assert_eq!(plain(&parse(source)), source, "{source}");
        }
        // Links and images: the text as written, where the page finds web links by itself.
        assert_eq!(parse("[a](https://x.org)"), [Paragraph(vec![text("[a](https://x.org)")])]);
        assert_eq!(
            parse("see ![i](javascript:alert(1)) **b**"),
            [Paragraph(vec![text("see ![i](javascript:alert(1)) "), Strong(vec![text("b")])])]
        );
        assert_eq!(parse("inline <em>x</em>"), [Paragraph(vec![text("inline <em>x</em>")])]);
    }

    #[test]
    fn only_formatted_text_has_markup() {
        assert_eq!(formatting("hello @ann https://x.org/a_b"), None);
        assert_eq!(formatting("two\nlines"), None);
        assert!(formatting("*it*").is_some());
        assert!(formatting("one\n\ntwo").is_some());
        assert!(formatting("# heading").is_none());
        // An escape is formatting: the text shown differs from the text written.
        assert_eq!(formatting("a \\*b"), Some(vec![Paragraph(vec![text("a *b")])]));
    }

    #[test]
    fn the_wire_form_is_short() {
        let json = serde_json::to_string(&parse("**a** `b`\n> c")).unwrap_or_default();
        assert_eq!(
            json,
            r#"[{"p":[{"b":[{"t":"a"}]},{"t":" "},{"code":"b"}]},{"quote":[{"p":[{"t":"c"}]}]}]"#
        );
    }

    #[test]
    fn plain_text_comes_back_whole() {
        for source in ["hello", "a*b", "2 * 3 * 4", "@ann: see https://x.org/a_b_c", "é 😀"] {
            assert_eq!(plain(&parse(source)), source, "{source}");
        }
    }
}

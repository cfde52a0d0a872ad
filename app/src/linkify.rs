//! Finds the web links in a message, so that they can be shown as links while everything else
//! stays text. Only `http://` and `https://` become links: never `javascript:`, `data:` or any
//! other scheme, whatever the text says.

/// A piece of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    Text(&'a str),
    Link(&'a str),
}

/// Splits `text` into text and links, in order; joined again they give `text` back.
pub fn segments(text: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = find_link_start(rest) {
        let tail = &rest[start..];
        let end =
            tail.find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"')).unwrap_or(tail.len());
        // Punctuation that ends a sentence is not part of the link ("see https://x.org.").
        let link = tail[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '\'']);
        let scheme_only = link.ends_with("://");
        if scheme_only {
            out.push(Segment::Text(&rest[..start + link.len()]));
        } else {
            if start > 0 {
                out.push(Segment::Text(&rest[..start]));
            }
            out.push(Segment::Link(link));
        }
        rest = &rest[start + link.len()..];
    }
    if !rest.is_empty() {
        out.push(Segment::Text(rest));
    }
    out
}

/// Where the next `http://` or `https://` starts, at a word boundary, in any letter case.
fn find_link_start(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find("http") {
        let at = from + found;
        let after = &lower[at..];
        let boundary = at == 0 || !text[..at].ends_with(|c: char| c.is_alphanumeric());
        if boundary && (after.starts_with("http://") || after.starts_with("https://")) {
            return Some(at);
        }
        from = at + 4;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::Segment::{Link, Text};
    use super::*;

    #[test]
    fn links_are_found_and_the_rest_is_text() {
        assert_eq!(segments("no links here"), vec![Text("no links here")]);
        assert_eq!(
            segments("see https://example.org/a?b=c#d, then http://x.y."),
            vec![
                Text("see "),
                Link("https://example.org/a?b=c#d"),
                Text(", then "),
                Link("http://x.y"),
                Text(".")
            ]
        );
        assert_eq!(
            segments("(HTTPS://Example.org)"),
            vec![Text("("), Link("HTTPS://Example.org"), Text(")")]
        );
        assert_eq!(segments("https://"), vec![Text("https://")]);
    }

    #[test]
    fn other_schemes_never_become_links() {
        for text in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(document.cookie)",
            "data:text/html,<script>alert(1)</script>",
            "xhttps://evil.example",
            "vbscript:msgbox(1)",
        ] {
            assert_eq!(segments(text), vec![Text(text)], "{text}");
        }
        // A link cannot carry markup out of itself.
        assert_eq!(
            segments(r#"https://a.b/"onmouseover="alert(1)"#),
            vec![Link("https://a.b/"), Text(r#""onmouseover="alert(1)"#)]
        );
    }

    #[test]
    fn joined_segments_give_the_text_back() {
        for text in ["a https://b.c d", "https://x.y)", "é https://é.fr/é é", "http://a http://b"] {
            let joined: String = segments(text)
                .into_iter()
                .map(|s| match s {
                    Text(t) | Link(t) => t,
                })
                .collect();
            assert_eq!(joined, text);
        }
    }
}

//! Drawing the screen: the room's log (newest at the bottom, wrapped, scrollable), the members
//! beside it when the terminal is wide enough, a status line, and the line being typed.
//! Everything from the network goes through `format::safe` first: the terminal shows it, never
//! obeys it.

use super::screen::{Link, Screen};
use crate::format::{clock, safe};
use app::log::LineKind;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, List, ListItem, Paragraph};
use ratatui::Frame;
use tokio::time::Instant;
use unicode_width::UnicodeWidthChar;

/// The members' column, and the narrowest terminal that shows it.
const MEMBERS_WIDTH: u16 = 22;
const MEMBERS_FROM: u16 = 64;

pub fn draw(frame: &mut Frame, screen: &mut Screen) {
    let [top, status, input] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(1), Constraint::Length(3)])
            .areas(frame.area());
    let (log_area, members_area) = if top.width >= MEMBERS_FROM {
        let [log, members] =
            Layout::horizontal([Constraint::Min(20), Constraint::Length(MEMBERS_WIDTH)]).areas(top);
        (log, Some(members))
    } else {
        (top, None)
    };
    draw_log(frame, screen, log_area);
    if let Some(area) = members_area {
        draw_members(frame, screen, area);
    }
    frame.render_widget(Paragraph::new(status_line(screen, Instant::now())), status);
    draw_input(frame, screen, input);
}

fn draw_log(frame: &mut Frame, screen: &mut Screen, area: Rect) {
    let mut title = format!(" {} ", screen.room);
    if !screen.topic.is_empty() {
        title.push_str(&format!("— {} ", safe(&screen.topic)));
    }
    let block = Block::bordered().title(title.bold());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let (width, height) = (usize::from(inner.width), usize::from(inner.height));
    screen.page = (height / 2).max(1);
    let rows = rows(screen, width);
    // Scrolled no further than the oldest row.
    screen.scroll = screen.scroll.min(rows.len().saturating_sub(height));
    let end = rows.len() - screen.scroll;
    let start = end.saturating_sub(height);
    let mut shown: Vec<Line> = rows[start..end].to_vec();
    // Newest at the bottom, as in every chat: a short log sits above the input.
    let blank = height.saturating_sub(shown.len());
    shown.splice(0..0, std::iter::repeat_n(Line::default(), blank));
    frame.render_widget(Paragraph::new(shown), inner);
}

/// Every row the log shows at `width`: its lines, then the messages waiting to be sent.
fn rows(screen: &Screen, width: usize) -> Vec<Line<'static>> {
    let me = screen.me.as_deref().unwrap_or_default();
    let dim = Style::new().add_modifier(Modifier::DIM);
    let mut rows = Vec::new();
    for line in screen.log.lines() {
        let spans = match &line.kind {
            LineKind::Message { seq, author, text, at, edited, deleted, reactions, reply, .. } => {
                let name =
                    if author == me { Style::new().bold().fg(Color::Cyan) } else { Style::new().bold() };
                let mut spans = vec![
                    (format!("{} ", clock(*at)), dim),
                    (safe(author), name),
                    (": ".to_owned(), Style::new()),
                ];
                if let Some(quote) = reply.as_ref().filter(|_| !*deleted) {
                    let quoted = match &quote.author {
                        Some(author) => format!("↩ {}: {} │ ", safe(author.as_str()), safe(&quote.excerpt)),
                        None => "↩ a deleted message │ ".to_owned(),
                    };
                    spans.push((quoted, dim));
                }
                if *deleted {
                    spans.push(("(deleted)".to_owned(), dim.add_modifier(Modifier::ITALIC)));
                } else {
                    spans.push((safe(text), Style::new()));
                }
                if *edited {
                    spans.push((" (edited)".to_owned(), dim));
                }
                if !reactions.is_empty() {
                    let counts: Vec<String> =
                        reactions.iter().map(|r| format!("{} {}", r.emoji.as_str(), r.by.len())).collect();
                    spans.push((format!("  [{}]", counts.join("  ")), dim));
                }
                spans.push((format!("  #{seq}"), dim));
                spans
            }
            LineKind::Joined { name } => vec![(format!("→ {} joined", safe(name)), dim.fg(Color::Green))],
            LineKind::Left { name } => vec![(format!("← {} left", safe(name)), dim)],
            LineKind::Notice { text } => vec![(format!("* {}", safe(text)), Style::new().fg(Color::Yellow))],
        };
        rows.extend(wrap(spans, width));
    }
    for pending in screen.outbox.iter() {
        let spans = vec![
            ("--:-- ".to_owned(), dim),
            (safe(me), dim.bold()),
            (format!(": {}", safe(pending.text.as_str())), dim),
            ("  (waiting to be sent)".to_owned(), dim.add_modifier(Modifier::ITALIC)),
        ];
        rows.extend(wrap(spans, width));
    }
    rows
}

/// Styled text cut into rows at most `width` columns wide (by the characters' display width),
/// between words where a row has a space to break at, within a word where it has none.
fn wrap(spans: Vec<(String, Style)>, width: usize) -> Vec<Line<'static>> {
    let width = width.max(1);
    let cells: Vec<(char, Style, usize)> = spans
        .iter()
        .flat_map(|(text, style)| text.chars().map(move |c| (c, *style, c.width().unwrap_or(0))))
        .collect();
    let mut rows = Vec::new();
    let (mut start, mut used, mut space) = (0, 0, None);
    let mut i = 0;
    while i < cells.len() {
        let (c, _, w) = cells[i];
        if used + w > width && i > start {
            // Break after the row's last space, or before this character if it has none.
            let end = match space {
                Some(after) if after > start => after + 1,
                _ => i,
            };
            rows.push(line_of(&cells[start..end]));
            start = end;
            used = cells[start..i].iter().map(|cell| cell.2).sum();
            space = None;
            continue;
        }
        if c == ' ' {
            space = Some(i);
        }
        used += w;
        i += 1;
    }
    rows.push(line_of(&cells[start..]));
    rows
}

/// A row of styled characters as spans, one per run of a style.
fn line_of(cells: &[(char, Style, usize)]) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut text = String::new();
    let mut style = None;
    for (c, cell_style, _) in cells {
        if style.is_some_and(|s| s != *cell_style) {
            spans.push(Span::styled(std::mem::take(&mut text), style.unwrap_or_default()));
        }
        style = Some(*cell_style);
        text.push(*c);
    }
    if let Some(style) = style {
        spans.push(Span::styled(text, style));
    }
    Line::from(spans)
}

fn draw_members(frame: &mut Frame, screen: &Screen, area: Rect) {
    let me = screen.me.as_deref().unwrap_or_default();
    let items: Vec<ListItem> = screen
        .roster
        .members()
        .map(|name| {
            let style = if name == me { Style::new().fg(Color::Cyan) } else { Style::new() };
            ListItem::new(Span::styled(safe(name), style))
        })
        .collect();
    let title = format!(" {} here ", screen.roster.len());
    frame.render_widget(List::new(items).block(Block::bordered().title(title)), area);
}

/// The connection, who is typing, and what waits to be sent.
fn status_line(screen: &Screen, now: Instant) -> Line<'static> {
    let link = match &screen.link {
        Link::Connecting | Link::Open { .. } => Span::styled("connecting…", Style::new().fg(Color::Yellow)),
        Link::Ready { .. } => Span::styled(
            format!("connected as {}", safe(screen.me.as_deref().unwrap_or_default())),
            Style::new().fg(Color::Green),
        ),
        Link::Waiting { why, next } => {
            let secs = next.saturating_duration_since(now).as_secs_f64();
            Span::styled(
                format!("offline ({}): again in {secs:.0} s", safe(why)),
                Style::new().fg(Color::Red),
            )
        }
        Link::Ended { why } => Span::styled(format!("closed: {}", safe(why)), Style::new().fg(Color::Red)),
    };
    let mut spans = vec![Span::raw(" "), link];
    if let Some(typing) = screen.roster.typing_line(screen.me.as_deref().unwrap_or_default()) {
        spans
            .push(Span::styled(format!("   {}", safe(&typing)), Style::new().add_modifier(Modifier::ITALIC)));
    }
    if !screen.outbox.is_empty() {
        spans.push(Span::styled(
            format!("   {} waiting to be sent", screen.outbox.len()),
            Style::new().bold(),
        ));
    }
    if screen.scroll > 0 {
        spans.push(Span::styled("   (scrolled: PageDown for newer)".to_owned(), Style::new().dim()));
    }
    Line::from(spans)
}

fn draw_input(frame: &mut Frame, screen: &Screen, area: Rect) {
    let block = Block::bordered().title(" message (/help) ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width).max(1);
    // Scrolled sideways so that the cursor stays in sight.
    let chars: Vec<char> = screen.editor.text().chars().collect();
    let before: usize = chars[..screen.editor.cursor()].iter().map(|c| c.width().unwrap_or(0)).sum();
    let mut skip_cols = 0;
    let mut skip = 0;
    while before - skip_cols >= width {
        skip_cols += chars[skip].width().unwrap_or(0);
        skip += 1;
    }
    let visible: String = chars[skip..].iter().collect();
    frame.render_widget(Paragraph::new(visible), inner);
    let x = inner.x + u16::try_from(before - skip_cols).unwrap_or(0);
    frame.set_cursor_position(Position { x, y: inner.y });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(rows: &[Line]) -> Vec<String> {
        rows.iter().map(|r| r.spans.iter().map(|s| s.content.as_ref()).collect()).collect()
    }

    #[test]
    fn long_lines_wrap_by_display_width_keeping_styles() {
        let bold = Style::new().bold();
        let rows = wrap(vec![("ann".into(), bold), (": 日本語のテキスト".into(), Style::new())], 8);
        assert_eq!(text(&rows), ["ann: ", "日本語の", "テキスト"], "at the space, then by width");
        assert_eq!(rows[0].spans[0].style, bold);
        assert_eq!(text(&wrap(vec![], 5)), [""]);
        // Between words where it can.
        let rows = wrap(vec![("ann: ".into(), bold), ("the quick brown fox".into(), Style::new())], 12);
        assert_eq!(text(&rows), ["ann: the ", "quick brown ", "fox"]);
        assert_eq!(rows[0].spans.len(), 2, "a span per style");
        assert_eq!(
            text(&wrap(vec![("a supercalifragilistic".into(), Style::new())], 8)),
            ["a ", "supercal", "ifragili", "stic"]
        );
    }
}

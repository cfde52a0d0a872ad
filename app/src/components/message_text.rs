//! A message's text as the page shows it: the formatting subset (see [`crate::markup`]) in the
//! page's own elements, web links as links that open apart from this page and tell the target
//! nothing about it, mentions marked (the reader's own more than others). Every piece of user
//! text goes into a text node.

use crate::linkify::{segments, Segment};
use crate::markup::{Block, Inline, Markup};
use crate::mention::{self, Piece};
use leptos::prelude::*;

/// The text of a message, formatted as the server read it (`markup`; none: one paragraph as
/// written); `tail` ends its last paragraph (the "(edited)" mark).
#[component]
pub fn MessageText(
    text: String,
    markup: Option<Markup>,
    me: Signal<String>,
    tail: Option<AnyView>,
) -> impl IntoView {
    let blocks = markup.unwrap_or_else(|| vec![Block::Paragraph(vec![Inline::Text(text)])]);
    let last = blocks.len().saturating_sub(1);
    let mut tail = tail;
    let shown = blocks
        .into_iter()
        .enumerate()
        .map(|(i, block)| match block {
            Block::Paragraph(items) if i == last => {
                let tail = tail.take();
                view! { <p>{inlines(items, me)}{tail}</p> }.into_any()
            }
            block => block_view(block, me),
        })
        .collect_view();
    view! { <div class="text">{shown}{tail}</div> }
}

fn block_view(block: Block, me: Signal<String>) -> AnyView {
    match block {
        Block::Paragraph(items) => view! { <p>{inlines(items, me)}</p> }.into_any(),
        Block::Quote(blocks) => {
            let inner = blocks.into_iter().map(|b| block_view(b, me)).collect_view();
            view! { <blockquote>{inner}</blockquote> }.into_any()
        }
        Block::Code(code) => view! { <pre><code>{code}</code></pre> }.into_any(),
    }
}

fn inlines(items: Vec<Inline>, me: Signal<String>) -> AnyView {
    items
        .into_iter()
        .map(|item| match item {
            Inline::Text(text) => linked(&text, me),
            Inline::Code(code) => view! { <code>{code}</code> }.into_any(),
            Inline::Strong(items) => view! { <strong>{inlines(items, me)}</strong> }.into_any(),
            Inline::Emphasis(items) => view! { <em>{inlines(items, me)}</em> }.into_any(),
        })
        .collect_view()
        .into_any()
}

/// Text with its web links and mentions.
fn linked(text: &str, me: Signal<String>) -> AnyView {
    segments(text)
        .into_iter()
        .map(|segment| match segment {
            Segment::Text(text) => mention::pieces(text)
                .into_iter()
                .map(|piece| match piece {
                    Piece::Text(text) => text.to_owned().into_any(),
                    Piece::Mention(name) => {
                        let called = name.get(1..).unwrap_or_default().to_owned();
                        let mine = move || me.with(|me| mention::calls(&called, me));
                        view! { <span class="mention" class:me=mine>{name.to_owned()}</span> }.into_any()
                    }
                })
                .collect_view()
                .into_any(),
            Segment::Link(url) => {
                view! { <a href=url.to_owned() target="_blank" rel="noopener noreferrer nofollow">{url.to_owned()}</a> }
                    .into_any()
            }
        })
        .collect_view()
        .into_any()
}

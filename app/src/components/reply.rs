//! Replies on the page: a button on each message that makes the composer answer it, and the
//! quote a reply shows above its text, a link that brings the answered message into view (loading
//! older history until it is there).

use crate::connection::RoomLink;
use crate::protocol::Seq;
use crate::quote::Quote;
use leptos::prelude::*;

/// How many older pages a quote's link loads, at most, looking for what it quotes.
#[cfg(feature = "hydrate")]
pub const PAGES_TO_SEARCH: u32 = 20;

/// The id of message `seq`'s line, which a quote and a search result link to.
pub fn line_id(seq: Seq) -> String {
    format!("m{seq}")
}

/// The message a line's id names (`m12` → 12).
#[cfg(any(feature = "hydrate", test))]
pub fn line_seq(id: &str) -> Option<Seq> {
    id.strip_prefix('m')?.parse().ok()
}

/// Makes the composer answer message `seq`.
#[component]
pub fn ReplyButton(link: RoomLink, seq: Seq, author: String, text: String) -> impl IntoView {
    let start = move |_| {
        if let Ok(author) = crate::names::Nickname::parse(&author) {
            link.replying.set(Some(Quote::of(seq, author, &text)));
        }
    };
    view! {
        <button type="button" class="reply-button" aria-label="Reply" title="Reply" on:click=start>
            "↩"
        </button>
    }
}

/// The quote above a reply's text.
#[component]
pub fn QuoteLink(link: RoomLink, quote: Quote) -> impl IntoView {
    let id = quote.id;
    let go = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        jump(link, id, PAGES_TO_SEARCH);
        #[cfg(not(feature = "hydrate"))]
        let _ = link;
    };
    let body = match quote.author {
        Some(author) => view! {
            <span class="quote-author">{author.to_string()}</span>
            <span class="quote-text">{quote.excerpt}</span>
        }
        .into_any(),
        None => view! { <span class="quote-gone">"a deleted message"</span> }.into_any(),
    };
    view! {
        <a class="quote" href=format!("#{}", line_id(id)) on:click=go>
            <span class="visually-hidden">"In reply to "</span>
            {body}
        </a>
    }
}

/// Brings message `id` into view and gives it the focus, loading up to `pages` older pages of
/// history first if it is not shown.
#[cfg(feature = "hydrate")]
pub fn jump(link: RoomLink, id: Seq, pages: u32) {
    use wasm_bindgen::JsCast;
    let found = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(&line_id(id)))
        .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(line) = found {
        line.scroll_into_view();
        let _ = line.focus();
        return;
    }
    let more = link.log.with_untracked(|log| matches!(log.older_cursor(), Some(Some(_))));
    if pages > 0 && more {
        // Drawn a frame after the page is in the log.
        link.load_older(move || request_animation_frame(move || jump(link, id, pages - 1)));
    } else {
        link.log.update(|log| {
            log.push(crate::log::LineKind::Notice { text: format!("Message {id} is no longer in the room.") })
        });
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_line_id_names_its_message() {
        assert_eq!(super::line_seq(&super::line_id(12)), Some(12));
        assert_eq!(super::line_seq("main"), None);
        assert_eq!(super::line_seq("m"), None);
    }
}

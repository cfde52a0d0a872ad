//! The room's log. Every piece of user text goes into a text node, never into markup.

use crate::connection::RoomLink;
use crate::log::{LineKind, LogLine};
use crate::protocol::Millis;
use leptos::prelude::*;

#[component]
pub fn MessageLog(link: RoomLink) -> impl IntoView {
    let list = NodeRef::<leptos::html::Ol>::new();
    let log = link.log;
    let outbox = link.outbox;
    // Keep the newest line in view as lines are appended (not when older ones load above).
    Effect::new(move |_| {
        log.with(|l| l.newest_key());
        outbox.track();
        if let Some(el) = list.get() {
            el.set_scroll_top(el.scroll_height());
        }
    });
    // Loads the page before the oldest message, keeping what the reader looks at in place.
    let load_older = move || {
        let Some(el) = list.get_untracked() else { return };
        let (top, height) = (el.scroll_top(), el.scroll_height());
        link.load_older(move || {
            request_animation_frame(move || {
                if let Some(el) = list.get_untracked() {
                    el.set_scroll_top(top + el.scroll_height() - height);
                }
            })
        });
    };
    let has_older = move || log.with(|l| matches!(l.older_cursor(), Some(Some(_))));
    view! {
        <ol
            class="log"
            node_ref=list
            aria-live="polite"
            aria-label="Messages"
            on:scroll=move |_| {
                if list.get_untracked().is_some_and(|el| el.scroll_top() == 0) && has_older() {
                    load_older();
                }
            }
        >
            <Show when=has_older>
                <li class="line older">
                    <button type="button" class="load-older" on:click=move |_| load_older() disabled=move || link.loading_older.get()>
                        "Load older messages"
                    </button>
                </li>
            </Show>
            <For
                each=move || log.with(|l| l.lines().cloned().collect::<Vec<_>>())
                key=|line| line.key
                let:line
            >
                <Line line/>
            </For>
            // Sent by this reader, not yet acknowledged by the server: shown until it is.
            <For
                each=move || outbox.with(|o| o.iter().cloned().collect::<Vec<_>>())
                key=|pending| pending.id.clone()
                let:pending
            >
                <li class="line message pending">
                    <span class="at">"sending…"</span>
                    <span class="author">{move || link.me.get()}</span>
                    <span class="text">{pending.text.to_string()}</span>
                </li>
            </For>
        </ol>
    }
}

#[component]
fn Line(line: LogLine) -> impl IntoView {
    match line.kind {
        LineKind::Message { author, text, at } => {
            // The server renders UTC; once hydrated, the reader's own time zone.
            let time = RwSignal::new(utc_time(at));
            #[cfg(feature = "hydrate")]
            Effect::new(move |_| time.set(local_time(at)));
            view! {
            <li class="line message">
                <time class="at">{move || time.get()}</time>
                <span class="author">{author}</span>
                <span class="text">{text}</span>
            </li>
            }
            .into_any()
        }
        LineKind::Joined { name } => view! {
            <li class="line presence joined"><span class="author">{name}</span>" joined"</li>
        }
        .into_any(),
        LineKind::Left { name } => view! {
            <li class="line presence left"><span class="author">{name}</span>" left"</li>
        }
        .into_any(),
        LineKind::Notice { text } => view! { <li class="line notice">{text}</li> }.into_any(),
    }
}

/// `HH:MM` in UTC: all the server knows.
fn utc_time(at: Millis) -> String {
    let minutes = at.div_euclid(60_000);
    format!("{:02}:{:02}", minutes.div_euclid(60).rem_euclid(24), minutes.rem_euclid(60))
}

/// `HH:MM` in the reader's time zone.
#[cfg(feature = "hydrate")]
fn local_time(at: Millis) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at as f64));
    format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
}

//! The room's log: day separators, messages grouped by author, and scrolling
//! that follows new messages only while the reader is at the bottom (otherwise a "new messages"
//! button appears). Every piece of user text goes into a text node, never into markup.

use crate::components::message_actions::{EditForm, MessageActions};
use crate::components::message_text::MessageText;
use crate::components::reactions::ReactionBar;
use crate::components::reply::{line_id, QuoteLink, ReplyButton};
use crate::connection::RoomLink;
use crate::log::{LineKind, LogLine};
use crate::mention;
use crate::protocol::Millis;
use crate::timeline::{layout, utc_day, utc_time, Item};
use leptos::prelude::*;

/// Within this many pixels of the bottom counts as "at the bottom".
const NEAR_BOTTOM_PX: i32 = 48;

#[component]
pub fn MessageLog(link: RoomLink) -> impl IntoView {
    let scroller = NodeRef::<leptos::html::Div>::new();
    let log = link.log;
    let me = link.my_name();
    let outbox = link.outbox;
    // The server and the hydrating page lay out in UTC, so that both render the same; then the
    // page switches to the reader's zone.
    let local = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| local.set(true));
    let items = Memo::new(move |_| {
        let zoned = local.get();
        log.with(|l| layout(l.lines(), |at| if zoned { local_offset_ms(at) } else { 0 }))
    });

    let at_bottom = RwSignal::new(true);
    let unseen = RwSignal::new(0_usize);
    let scroll_to_bottom = move || {
        if let Some(el) = scroller.get_untracked() {
            el.set_scroll_top(el.scroll_height());
        }
        unseen.set(0);
    };
    // New lines: follow them if the reader is at the bottom (or just sent something);
    // otherwise count them for the "new messages" button. Older pages loaded above change
    // neither.
    Effect::new(move |previous: Option<(Option<i64>, usize, Option<i64>)>| {
        let (newest, oldest) = log.with(|l| (l.newest_key(), l.lines().next().map(|l| l.key)));
        let pending = outbox.with(|o| o.len());
        if let Some((before, pending_before, oldest_before)) = previous {
            let added = match (before, newest) {
                (Some(b), Some(n)) if n > b => (n - b) as usize,
                (None, Some(_)) => 1,
                _ => 0,
            };
            // A page loaded above moves nothing: whoever loaded it keeps their place.
            let prepended = added == 0 && oldest != oldest_before;
            if pending > pending_before || (at_bottom.get_untracked() && !prepended) {
                request_animation_frame(scroll_to_bottom);
            } else if added > 0 {
                unseen.update(|n| *n += added);
            }
        } else {
            request_animation_frame(scroll_to_bottom);
        }
        (newest, pending, oldest)
    });
    // The "new messages" line: above the first message by someone else after the reader's mark.
    let marker = Memo::new(move |_| {
        let mark = link.read_mark.get()?;
        me.with(|me| {
            log.with(|l| {
                l.lines().find_map(|line| match &line.kind {
                    LineKind::Message { seq, author, .. } if *seq > mark && author != me => Some(*seq),
                    _ => None,
                })
            })
        })
    });
    // The room opens there, once, when it is further up than the bottom.
    let opened_at_marker = StoredValue::new(false);
    Effect::new(move |_| {
        let Some(seq) = marker.get() else { return };
        if opened_at_marker.get_value() {
            return;
        }
        opened_at_marker.set_value(true);
        // A link to one message opens the room there instead.
        #[cfg(feature = "hydrate")]
        if window().location().hash().is_ok_and(|hash| hash.starts_with("#m")) {
            return;
        }
        #[cfg(feature = "hydrate")]
        request_animation_frame(move || {
            if let Some(line) = document().get_element_by_id(&line_id(seq)) {
                line.scroll_into_view();
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = seq;
    });
    // A link to one message (`#m12`: a search result's): once the history is here, the room
    // opens there, loading older pages until it is shown.
    #[cfg(feature = "hydrate")]
    {
        let linked = StoredValue::new(false);
        Effect::new(move |_| {
            let loaded = log.with(|l| l.resume_position().is_some());
            if !loaded || linked.get_value() {
                return;
            }
            linked.set_value(true);
            let hash = window().location().hash().unwrap_or_default();
            if let Some(id) = hash.strip_prefix('#').and_then(crate::components::reply::line_seq) {
                request_animation_frame(move || {
                    crate::components::reply::jump(link, id, crate::components::reply::PAGES_TO_SEARCH)
                });
            }
        });
    }
    // What the reader has seen, the server keeps: the newest entry, once the page is shown, at
    // the bottom, and connected.
    Effect::new(move |_| {
        let newest = log.with(|l| l.resume_position().map(|(_, seq)| seq));
        let connected = link.state.get() == crate::connection::ConnState::Connected;
        if let Some(seq) = newest.filter(|_| connected && at_bottom.get() && link.visible.get()) {
            link.read_up_to(seq);
        }
    });
    // Loads the page before the oldest message, keeping what the reader looks at in place.
    let load_older = move || {
        let Some(el) = scroller.get_untracked() else { return };
        let (top, height) = (el.scroll_top(), el.scroll_height());
        link.load_older(move || {
            request_animation_frame(move || {
                if let Some(el) = scroller.get_untracked() {
                    el.set_scroll_top(top + el.scroll_height() - height);
                }
            })
        });
    };
    let has_older = move || log.with(|l| matches!(l.older_cursor(), Some(Some(_))));
    let on_scroll = move |_| {
        let Some(el) = scroller.get_untracked() else { return };
        let bottom = el.scroll_height() - el.scroll_top() - el.client_height() <= NEAR_BOTTOM_PX;
        at_bottom.set(bottom);
        if bottom {
            unseen.set(0);
        }
        if el.scroll_top() == 0 && has_older() {
            load_older();
        }
    };
    view! {
        <div class="log-frame">
            // Focusable, so that keyboard users can scroll it; labelled for screen readers.
            <div class="log-scroller" node_ref=scroller tabindex="0" role="region" aria-label="Messages" on:scroll=on_scroll>
                <Show when=has_older>
                    <button type="button" class="load-older" on:click=move |_| load_older() disabled=move || link.loading_older.get()>
                        "Load older messages"
                    </button>
                </Show>
                <ol class="log">
                    <For each=move || items.get() key=Item::key let:item>
                        <Line item link me marker/>
                    </For>
                    // Sent by this reader, not yet acknowledged by the server: shown until it is.
                    <For
                        each=move || outbox.with(|o| o.iter().cloned().collect::<Vec<_>>())
                        key=|pending| pending.id.clone()
                        let:pending
                    >
                        <li class="line message pending">
                            <div class="meta">
                                <span class="author">{move || link.me.get()}</span>
                                <span class="at">"sending…"</span>
                            </div>
                            <p class="text">{pending.text.to_string()}</p>
                        </li>
                    </For>
                </ol>
            </div>
            <Show when=move || { unseen.get() > 0 }>
                <button type="button" class="new-messages" on:click=move |_| scroll_to_bottom()>
                    {move || match unseen.get() {
                        1 => "1 new message ↓".to_owned(),
                        n => format!("{n} new messages ↓"),
                    }}
                </button>
            </Show>
        </div>
    }
}

#[component]
fn Line(
    item: Item,
    link: RoomLink,
    me: Signal<String>,
    marker: Memo<Option<crate::protocol::Seq>>,
) -> impl IntoView {
    let Item { line: LogLine { kind, .. }, day, continued } = item;
    let separator = day.map(|day| {
        let label = RwSignal::new(utc_day(day));
        #[cfg(feature = "hydrate")]
        Effect::new(move |_| label.set(local_day(day)));
        view! { <li class="day"><span>{move || label.get()}</span></li> }
    });
    let line = match kind {
        LineKind::Message { seq, author, text, at, edited, deleted, reactions, reply, markup } => {
            // The server renders UTC; once hydrated, the reader's own time zone.
            let time = RwSignal::new(utc_time(at));
            #[cfg(feature = "hydrate")]
            Effect::new(move |_| time.set(local_time(at)));
            let class = if continued { "line message continued" } else { "line message" };
            // Someone else calling the reader by name: the line stands out, and says so.
            let mentioned = {
                let (author, text) = (author.clone(), text.clone());
                Memo::new(move |_| me.with(|me| !deleted && author != *me && mention::mentions(&text, me)))
            };
            let editing = RwSignal::new(false);
            let body = if deleted {
                view! { <p class="text tombstone">"message deleted"</p> }.into_any()
            } else {
                let shown = text.clone();
                let answered = text.clone();
                let quote = reply.map(|quote| view! { <QuoteLink link quote/> });
                view! {
                    {quote}
                    <Show
                        when=move || editing.get()
                        fallback=move || {
                            let text = shown.clone();
                            let markup = markup.clone();
                            let tail = edited.then(|| view! { <span class="edited">" (edited)"</span> }.into_any());
                            view! { <MessageText text markup me tail/> }
                        }
                    >
                        <EditForm link seq text=text.clone() editing/>
                    </Show>
                    <ReactionBar link seq reactions/>
                    <ReplyButton link seq author=author.clone() text=answered/>
                    <MessageActions link seq author=author.clone() editing/>
                    <DeleteForm link seq author=author.clone()/>
                }
                .into_any()
            };
            let new_here = move || {
                (marker.get() == Some(seq)).then(|| {
                    view! { <li class="unread-marker"><span>"New messages"</span></li> }
                })
            };
            view! {
                {new_here}
                <li class=class class:mentioned=move || mentioned.get() id=line_id(seq) tabindex="-1">
                    <div class="meta" class:visually-hidden=continued>
                        <span class="author">{author.clone()}</span>
                        <time class="at">{move || time.get()}</time>
                        {move || mentioned.get().then(|| view! { <span class="visually-hidden">" mentions you"</span> })}
                    </div>
                    {body}
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
    };
    view! { {separator} {line} }
}

/// Without JavaScript, the reader's own messages have a delete button of their own: a form the
/// server answers (the menu above needs the script). Hidden once the page is hydrated.
#[component]
fn DeleteForm(link: RoomLink, seq: crate::protocol::Seq, author: String) -> impl IntoView {
    let session = crate::session::use_session();
    let own = move || session.nickname.with(|n| n.as_deref() == Some(author.as_str()));
    let room = link.room.get_value().to_string();
    view! {
        <Show when=own>
            <form class="nojs-only delete-form" method="post" action="/fn/delete">
                <input type="hidden" name="room" value=room.clone()/>
                <input type="hidden" name="target" value=seq.to_string()/>
                <button type="submit">"Delete"</button>
            </form>
        </Show>
    }
}

#[cfg(feature = "hydrate")]
fn date(at: Millis) -> js_sys::Date {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at as f64))
}

/// The reader's offset from UTC at `at`.
#[cfg(feature = "hydrate")]
fn local_offset_ms(at: Millis) -> Millis {
    -(date(at).get_timezone_offset() as Millis) * 60_000
}

#[cfg(not(feature = "hydrate"))]
fn local_offset_ms(_at: Millis) -> Millis {
    0
}

/// `HH:MM` in the reader's time zone.
#[cfg(feature = "hydrate")]
fn local_time(at: Millis) -> String {
    let date = date(at);
    format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
}

/// "Today", "Yesterday", or the date in the reader's language.
#[cfg(feature = "hydrate")]
fn local_day(day: i64) -> String {
    let now = js_sys::Date::now() as Millis;
    let today = crate::timeline::day_of(now, local_offset_ms(now));
    match today - day {
        0 => "Today".to_owned(),
        1 => "Yesterday".to_owned(),
        _ => {
            // Noon of that local day, in UTC: safely inside it whatever the zone.
            let noon = day * 86_400_000 + 43_200_000;
            let noon = noon - local_offset_ms(noon);
            let options = js_sys::Object::new();
            for (key, value) in
                [("weekday", "long"), ("year", "numeric"), ("month", "long"), ("day", "numeric")]
            {
                let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
            }
            String::from(date(noon).to_locale_date_string("default", &options))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_named_by_their_utc_date() {
        assert_eq!(utc_day(0), "1970-01-01");
        assert_eq!(utc_day(20_413), "2025-11-21");
        assert_eq!(utc_day(-1), "1969-12-31");
        assert_eq!(utc_day(11_016), "2000-02-29");
    }
}

//! The room list: each room with its members online and its last activity, refreshed while the
//! page is open.

use crate::names::RoomName;
use crate::protocol::{Millis, RoomSummary, UNREAD_COUNTED};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// How often an open page refreshes the list.
#[cfg(feature = "hydrate")]
const REFRESH: std::time::Duration = std::time::Duration::from_secs(20);

/// The page of a room.
pub fn room_href(name: &RoomName) -> String {
    if *name == RoomName::lobby() {
        "/".to_owned()
    } else {
        format!("/r/{name}")
    }
}

#[component]
pub fn RoomList() -> impl IntoView {
    let rooms = Resource::new(|| (), |_| crate::api::list_rooms());
    #[cfg(feature = "hydrate")]
    {
        if let Ok(handle) = set_interval_with_handle(move || rooms.refetch(), REFRESH) {
            on_cleanup(move || handle.clear());
        }
    }
    let location = use_location();
    // Entering another room (a client-side navigation) may have made it: refresh then too.
    Effect::new(move |previous: Option<String>| {
        let path = location.pathname.get();
        if previous.is_some_and(|p| p != path) {
            rooms.refetch();
        }
        path
    });
    view! {
        <section class="room-list" aria-labelledby="rooms-heading">
            <h2 id="rooms-heading">"Rooms"</h2>
            // A Transition keeps the list shown while a refresh is on its way.
            <Transition fallback=|| view! { <p class="muted">"Loading rooms…"</p> }>
                {move || Suspend::new(async move {
                    let list = rooms.await.unwrap_or_default();
                    view! {
                        <ul>
                            {list
                                .into_iter()
                                .map(|room| {
                                    let href = room_href(&room.name);
                                    let room_news = (room.unread, room.mentions);
                                    let current = {
                                        let href = href.clone();
                                        move || (location.pathname.get() == href).then_some("page")
                                    };
                                    let here = current.clone();
                                    let news = move || (here().is_none()).then(|| news(&room_news)).flatten();
                                    view! {
                                        <li>
                                            <a href=href.clone() aria-current=current>
                                                <span class="room-name">"#" {room.name.to_string()} {news}</span>
                                                <span class="room-meta">{summary(&room)}</span>
                                                {(!room.topic.is_empty())
                                                    .then(|| view! { <span class="room-topic">{room.topic.clone()}</span> })}
                                            </a>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                })}
            </Transition>
        </section>
    }
}

/// What is new in a room for the reader (none for a room they never read): the count of
/// messages by others since they last read it, and of mentions of them among those.
fn news(&(unread, mentions): &(Option<u32>, u32)) -> Option<impl IntoView> {
    let unread = unread.filter(|n| *n > 0)?;
    let count = |n: u32| if n > UNREAD_COUNTED { format!("{UNREAD_COUNTED}+") } else { n.to_string() };
    let label = match (unread, mentions) {
        (1, 0) => "1 new message".to_owned(),
        (n, 0) => format!("{} new messages", count(n)),
        (n, m) => format!("{} new, {} mentioning you", count(n), count(m)),
    };
    let title = label.clone();
    Some(view! {
        <span class="news" title=title>
            <span class="visually-hidden">", " {label}</span>
            {(mentions > 0).then(|| view! { <span class="mentions" aria-hidden="true">"@" {count(mentions)}</span> })}
            <span class="unread" aria-hidden="true">{count(unread)}</span>
        </span>
    })
}

/// "2 online · 5 min ago".
fn summary(room: &RoomSummary) -> String {
    let online = match room.members {
        0 => "nobody online".to_owned(),
        n => format!("{n} online"),
    };
    match room.last_at {
        Some(at) => format!("{online} · {}", ago(at)),
        None => online,
    }
}

/// How long ago `at` was, coarsely ("just now", "5 min ago", "3 h ago", "2 d ago").
fn ago(at: Millis) -> String {
    #[cfg(feature = "hydrate")]
    let now = js_sys::Date::now() as Millis;
    #[cfg(not(feature = "hydrate"))]
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(at);
    let minutes = (now - at).max(0) / 60_000;
    match minutes {
        0 => "just now".to_owned(),
        1..=59 => format!("{minutes} min ago"),
        60..=1439 => format!("{} h ago", minutes / 60),
        _ => format!("{} d ago", minutes / 1440),
    }
}

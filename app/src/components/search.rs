//! Search: a form beside every page (this room, or every room), and the page of results at
//! `/search?q=&room=&offset=`, rendered by the server (so that it works without JavaScript) and
//! live in the page. Each result links to its message in the room's history, where the page
//! brings it into view (loading older history if need be); the words found are marked, as text.

use super::room_list::room_href;
use crate::names::RoomName;
use crate::search::{Hit, Results, Span, MAX_QUERY_CHARS};
use crate::timeline::utc_stamp;
use leptos::{ev::SubmitEvent, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_navigate, use_query_map};

/// The address of a page of results.
pub fn search_href(query: &str, room: Option<&str>, offset: u32) -> String {
    let mut address = form_urlencoded::Serializer::new(String::new());
    address.append_pair("q", query);
    if let Some(room) = room.filter(|r| !r.is_empty()) {
        address.append_pair("room", room);
    }
    if offset > 0 {
        address.append_pair("offset", &offset.to_string());
    }
    format!("/search?{}", address.finish())
}

/// Where a result's message is: its line in the room's history.
pub fn hit_href(hit: &Hit) -> String {
    format!("{}#{}", room_href(&hit.room), super::reply::line_id(hit.id))
}

/// The search form: `room` is the room it searches at first (the one shown), every room without.
#[component]
pub fn SearchForm(
    /// The id of the words' field, unique in the page.
    field_id: &'static str,
    #[prop(into)] room: Signal<Option<RoomName>>,
    #[prop(optional, into)] query: Option<String>,
) -> impl IntoView {
    let scope_id = format!("{field_id}-scope");
    let draft = RwSignal::new(query.unwrap_or_default());
    let scope_of = move || room.get().map(|r| r.to_string()).unwrap_or_default();
    let scope = RwSignal::new(room.with_untracked(|r| r.as_ref().map(|r| r.to_string())).unwrap_or_default());
    // The scope follows the room shown (the reader may choose again).
    Effect::new(move |_| scope.set(scope_of()));
    let navigate = use_navigate();
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let room = scope.get_untracked();
        navigate(&search_href(draft.get_untracked().trim(), Some(&room), 0), Default::default());
    };
    view! {
        <form class="search-form" role="search" action="/search" method="get" on:submit=on_submit>
            <label for=field_id>"Search messages"</label>
            <div class="field-row">
                <input
                    id=field_id
                    name="q"
                    type="search"
                    placeholder="words to find"
                    maxlength=MAX_QUERY_CHARS
                    required
                    autocomplete="off"
                    prop:value=draft
                    on:input=move |ev| draft.set(event_target_value(&ev))
                />
                <button type="submit">"Search"</button>
            </div>
            <label class="visually-hidden" for=scope_id.clone()>"Where"</label>
            <select id=scope_id name="room" prop:value=scope on:change=move |ev| scope.set(event_target_value(&ev))>
                {move || {
                    room.get().map(|r| {
                        let (name, shown) = (r.to_string(), format!("In #{r}"));
                        view! { <option value=name>{shown}</option> }
                    })
                }}
                <option value="">"In every room"</option>
            </select>
        </form>
    }
}

/// The room a page is about, from its path: the form searches it first.
pub fn room_of_path(path: &str) -> Option<RoomName> {
    match path.strip_prefix("/r/") {
        Some(room) => RoomName::parse(room).ok(),
        None if path == "/" => Some(RoomName::lobby()),
        None => None,
    }
}

/// The search form beside every page, searching the room shown.
#[component]
pub fn SidebarSearch() -> impl IntoView {
    let location = use_location();
    let path = location.pathname;
    let room = Signal::derive(move || room_of_path(&path.get()));
    // The page of results has its own.
    view! {
        <Show when=move || path.with(|p| p != "/search")>
            <SearchForm field_id="search" room/>
        </Show>
    }
}

/// The page of results at `/search`.
#[component]
pub fn SearchPage() -> impl IntoView {
    let query = use_query_map();
    let asked = move || {
        query.with(|q| {
            let words = q.get("q").unwrap_or_default();
            let room = q.get("room").filter(|r| !r.is_empty());
            let offset = q.get("offset").and_then(|o| o.parse::<u32>().ok()).unwrap_or(0);
            (words, room, offset)
        })
    };
    let results = Resource::new(asked, |(words, room, offset)| async move {
        if words.trim().is_empty() {
            return None;
        }
        Some(crate::api::search(words, room, Some(offset)).await.map_err(|e| crate::api::error_text(&e)))
    });
    let title = move || {
        let (words, _, _) = asked();
        if words.trim().is_empty() {
            "Search · Chat".to_owned()
        } else {
            format!("{} · Search · Chat", words.trim())
        }
    };
    view! {
        <Title text=title/>
        <main class="room search-page" id="main">
            <h1>"Search"</h1>
            {move || {
                let (words, room, _) = asked();
                let room = room.and_then(|r| RoomName::parse(&r).ok());
                view! { <SearchForm field_id="search-page" room=Signal::stored(room) query=words/> }
            }}
            <Transition fallback=|| view! { <p class="muted" role="status">"Searching…"</p> }>
                {move || Suspend::new(async move {
                    match results.await {
                        None => view! { <p class="muted">"Type the words to find: every one of them, or the start of one."</p> }.into_any(),
                        Some(Err(why)) => view! { <p class="error" role="alert">{why}</p> }.into_any(),
                        Some(Ok(found)) => view! { <ResultList found/> }.into_any(),
                    }
                })}
            </Transition>
        </main>
    }
}

#[component]
fn ResultList(found: Results) -> impl IntoView {
    let where_ = match &found.room {
        Some(room) => format!(" in #{room}"),
        None => " in every room".to_owned(),
    };
    let words = found.terms.join(" ");
    let count = match (found.hits.len(), found.next) {
        (0, _) => format!("No message has {words}{where_}."),
        (1, None) => format!("1 message has {words}{where_}."),
        (n, None) => format!("{n} messages have {words}{where_}."),
        (n, Some(_)) => format!("{n} messages (of more) have {words}{where_}, the newest first."),
    };
    let more = found.next.map(|next| {
        let href = search_href(&words, found.room.as_ref().map(|r| r.as_str()), next);
        view! { <p><a class="more-results" href=href>"More results"</a></p> }
    });
    view! {
        <p class="result-count" role="status">{count}</p>
        <ol class="results">
            {found.hits.into_iter().map(|hit| view! { <HitLine hit/> }).collect_view()}
        </ol>
        {more}
    }
}

#[component]
fn HitLine(hit: Hit) -> impl IntoView {
    let href = hit_href(&hit);
    let excerpt = hit
        .excerpt
        .into_iter()
        .map(|span| match span {
            Span::Text(text) => text.into_any(),
            Span::Match(word) => view! { <mark>{word}</mark> }.into_any(),
        })
        .collect_view();
    view! {
        <li class="result">
            <a href=href>
                <span class="result-meta">
                    <span class="result-room">"#" {hit.room.to_string()}</span>
                    <span class="author">{hit.author.to_string()}</span>
                    <span class="at">{utc_stamp(hit.at)}</span>
                </span>
                <span class="excerpt">{excerpt}</span>
            </a>
        </li>
    }
}

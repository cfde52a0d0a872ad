//! The room's audit, in the room-settings panel: the actions its moderators took and the
//! messages deleted, newest first, a page at a time. Only those who run the room are shown the
//! panel; the server answers only them.

use crate::connection::RoomLink;
use crate::protocol::AuditEntry;
use crate::timeline::utc_stamp;
use leptos::prelude::*;

#[component]
pub fn RoomAudit(link: RoomLink) -> impl IntoView {
    let shown = RwSignal::new(false);
    let entries = RwSignal::new(Vec::<AuditEntry>::new());
    let more = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let loaded = RwSignal::new(false);
    // Fetches the page before `before` (the newest without), after those shown for `Some`.
    let load = move |before: Option<u64>| {
        #[cfg(feature = "hydrate")]
        {
            let room = link.room.with_value(|r| r.to_string());
            leptos::task::spawn_local(async move {
                let url = match before {
                    Some(before) => format!("/api/rooms/{room}/audit?before={before}"),
                    None => format!("/api/rooms/{room}/audit"),
                };
                let answer = match gloo_net::http::Request::get(&url).send().await {
                    Ok(response) if response.ok() => {
                        response.json::<crate::protocol::AuditPage>().await.map_err(|_| None)
                    }
                    Ok(response) => Err(response.text().await.ok()),
                    Err(_) => Err(None),
                };
                match answer {
                    Ok(page) => {
                        entries.update(|shown| {
                            if before.is_none() {
                                shown.clear();
                            }
                            shown.extend(page.entries);
                        });
                        more.set(page.more);
                        loaded.set(true);
                        problem.set(None);
                    }
                    Err(why) => problem.set(Some(
                        why.filter(|w| !w.is_empty())
                            .unwrap_or_else(|| "The actions could not be loaded; try again.".to_owned()),
                    )),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (before, link, more, problem, loaded);
    };
    view! {
        <div class="room-audit">
            <button
                type="button"
                aria-expanded=move || if shown.get() { "true" } else { "false" }
                on:click=move |_| {
                    let show = !shown.get_untracked();
                    shown.set(show);
                    if show {
                        load(None);
                    }
                }
            >
                "Recent actions"
            </button>
            <Show when=move || shown.get()>
                <ol class="audit" aria-label="Recent actions, newest first">
                    <For each=move || entries.get() key=|entry| entry.seq let:entry>
                        <li>
                            <span class="audit-at">{utc_stamp(entry.at)}</span>
                            " "
                            <span class="audit-what">{entry.describe()}</span>
                        </li>
                    </For>
                </ol>
                {move || {
                    (loaded.get() && entries.with(Vec::is_empty))
                        .then(|| view! { <p class="audit-empty">"No actions yet."</p> })
                }}
                <Show when=move || more.get()>
                    <button
                        type="button"
                        on:click=move |_| load(entries.with_untracked(|e| e.last().map(|last| last.seq)))
                    >
                        "Older actions"
                    </button>
                </Show>
                {move || problem.get().map(|p| view! { <span class="problem" role="alert">{p}</span> })}
            </Show>
        </div>
    }
}

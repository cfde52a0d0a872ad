//! Who is in the room now.

use crate::connection::RoomLink;
use leptos::prelude::*;

#[component]
pub fn MemberList(link: RoomLink) -> impl IntoView {
    let count = move || link.roster.with(|r| r.len());
    view! {
        <aside class="members" aria-labelledby="members-heading">
            <h2 id="members-heading">"Online " <span class="count">{count}</span></h2>
            <ul>
                <For
                    each=move || link.roster.with(|r| r.members().cloned().collect::<Vec<_>>())
                    key=|name| name.clone()
                    let:name
                >
                    {
                        let you = {
                            let name = name.clone();
                            move || link.me.with(|me| *me == name)
                        };
                        view! {
                            <li class="member">
                                <span class="presence-dot" aria-hidden="true"></span>
                                {name.clone()}
                                <Show when=you>
                                    <span class="muted">" (you)"</span>
                                </Show>
                            </li>
                        }
                    }
                </For>
            </ul>
        </aside>
    }
}

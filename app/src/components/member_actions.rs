//! What a moderator may do to someone in the room: put them out, time them out, ban them. The
//! actions sit behind a disclosure button beside the name, offered only to those who run the
//! room and only over people below them; the server decides in the end.

use crate::connection::RoomLink;
use crate::names::Nickname;
use crate::protocol::{Action, ClientMessage, Role};
use leptos::prelude::*;

/// How long the page's timeout lasts.
const TIMEOUT_SECS: u64 = 600;

#[component]
pub fn MemberActions(link: RoomLink, name: String) -> impl IntoView {
    let Ok(name) = Nickname::parse(&name) else { return ().into_any() };
    let name = StoredValue::new(name);
    let open = RwSignal::new(false);
    let reason = NodeRef::<leptos::html::Input>::new();
    let allowed = move || {
        let mine = link.my_role();
        let theirs = link.rules.with(|rules| name.with_value(|n| rules.role_of(n)));
        let me = link.me.with(|me| name.with_value(|n| n.as_str() == me));
        mine >= Role::Moderator && theirs < mine && !me
    };
    let act = move |action: fn(Nickname, String) -> Action| {
        let why = reason.get_untracked().map(|r| r.value()).unwrap_or_default();
        if link.change(ClientMessage::Moderate { action: action(name.get_value(), why.trim().to_owned()) }) {
            open.set(false);
        }
    };
    let label = name.with_value(|n| format!("Moderate {n}"));
    let group = name.with_value(|n| format!("Actions on {n}"));
    (move || {
        let (label, group) = (label.clone(), group.clone());
        allowed().then(|| {
            view! {
                <button
                    type="button"
                    class="member-toggle"
                    aria-label=label
                    aria-expanded=move || if open.get() { "true" } else { "false" }
                    on:click=move |_| open.update(|o| *o = !*o)
                >
                    "⋯"
                </button>
                <Show when=move || open.get()>
                    <div class="member-actions" role="group" aria-label=group.clone()>
                        <label>"Reason " <input type="text" node_ref=reason maxlength="300"/></label>
                        <button type="button" on:click=move |_| act(|name, reason| Action::Kick { name, reason })>
                            "Put out"
                        </button>
                        <button
                            type="button"
                            on:click=move |_| {
                                act(|name, reason| Action::Timeout { name, seconds: TIMEOUT_SECS, reason })
                            }
                        >
                            "Time out 10 minutes"
                        </button>
                        <button
                            type="button"
                            class="danger"
                            on:click=move |_| act(|name, reason| Action::Ban { name, seconds: None, reason })
                        >
                            "Ban"
                        </button>
                    </div>
                </Show>
            }
        })
    })
    .into_any()
}

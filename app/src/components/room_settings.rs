//! What those who run a room change about it from the page: its topic and slow mode, and (for
//! its owner) who moderates it; anyone's sanctions lifted. Behind a disclosure button in the
//! room's header, offered only to them; the server decides in the end.

use super::room_audit::RoomAudit;
use crate::connection::RoomLink;
use crate::names::Nickname;
use crate::protocol::{Action, ClientMessage, Role};
use leptos::prelude::*;

/// The slow-mode periods offered, in seconds (0: off).
const SLOW_MODES: [(u64, &str); 5] =
    [(0, "Off"), (10, "10 seconds"), (30, "30 seconds"), (60, "1 minute"), (300, "5 minutes")];

#[component]
pub fn RoomSettings(link: RoomLink) -> impl IntoView {
    let open = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let topic = NodeRef::<leptos::html::Input>::new();
    let slow = NodeRef::<leptos::html::Select>::new();
    let person = NodeRef::<leptos::html::Input>::new();
    let send = move |action: Action| {
        let sent = link.change(ClientMessage::Moderate { action });
        problem.set((!sent).then(|| "Not changed: not connected, try again in a moment.".to_owned()));
    };
    let named = move |then: fn(Nickname) -> Action| {
        let value = person.get_untracked().map(|i| i.value()).unwrap_or_default();
        match Nickname::parse(value.trim()) {
            Ok(name) => send(then(name)),
            Err(err) => problem.set(Some(format!("Not changed: {err}."))),
        }
    };
    let runs = move || link.my_role() >= Role::Moderator;
    let owns = move || link.my_role() == Role::Owner;
    move || {
        runs().then(|| {
            view! {
                <div class="room-settings">
                    <button
                        type="button"
                        class="settings-toggle"
                        aria-expanded=move || if open.get() { "true" } else { "false" }
                        on:click=move |_| open.update(|o| *o = !*o)
                    >
                        "Room settings"
                    </button>
                    <Show when=move || open.get()>
                        <div class="settings-panel" role="group" aria-label="Room settings">
                            <label>
                                "Topic "
                                <input type="text" node_ref=topic maxlength="300" prop:value=move || link.rules.with(|r| r.topic.clone())/>
                            </label>
                            <button
                                type="button"
                                on:click=move |_| {
                                    let text = topic.get_untracked().map(|i| i.value()).unwrap_or_default();
                                    send(Action::Topic { text: text.trim().to_owned() });
                                }
                            >
                                "Set topic"
                            </button>
                            <label>
                                "Slow mode "
                                <select node_ref=slow>
                                    {SLOW_MODES
                                        .iter()
                                        .map(|(seconds, label)| {
                                            let seconds = *seconds;
                                            view! {
                                                <option value=seconds.to_string() selected=move || link.rules.with(|r| r.slow_mode == seconds)>
                                                    {*label}
                                                </option>
                                            }
                                        })
                                        .collect_view()}
                                </select>
                            </label>
                            <button
                                type="button"
                                on:click=move |_| {
                                    let seconds = slow.get_untracked().and_then(|s| s.value().parse().ok()).unwrap_or(0);
                                    send(Action::SlowMode { seconds });
                                }
                            >
                                "Set slow mode"
                            </button>
                            <label>"Nickname " <input type="text" node_ref=person maxlength="32"/></label>
                            <button type="button" on:click=move |_| named(|name| Action::Pardon { name })>
                                "Lift their sanctions"
                            </button>
                            <Show when=owns>
                                <button type="button" on:click=move |_| named(|name| Action::Role { name, role: Role::Moderator })>
                                    "Make moderator"
                                </button>
                                <button type="button" on:click=move |_| named(|name| Action::Role { name, role: Role::Member })>
                                    "Make member"
                                </button>
                            </Show>
                            {move || problem.get().map(|p| view! { <span class="problem" role="alert">{p}</span> })}
                            <RoomAudit link/>
                        </div>
                    </Show>
                </div>
            }
        })
    }
}

//! Who is in the room now.

use crate::components::member_actions::MemberActions;
use crate::connection::RoomLink;
use crate::names::Nickname;
use crate::protocol::Role;
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
                        let role = {
                            let name = name.clone();
                            move || {
                                let role = Nickname::parse(&name).map(|n| link.rules.with(|r| r.role_of(&n)));
                                match role {
                                    Ok(Role::Owner) => " (owner)",
                                    Ok(Role::Moderator) => " (moderator)",
                                    _ => "",
                                }
                            }
                        };
                        view! {
                            <li class="member">
                                <span class="presence-dot" aria-hidden="true"></span>
                                {name.clone()}
                                <span class="muted">{role}</span>
                                <Show when=you>
                                    <span class="muted">" (you)"</span>
                                </Show>
                                <MemberActions link name=name.clone()/>
                            </li>
                        }
                    }
                </For>
            </ul>
        </aside>
    }
}

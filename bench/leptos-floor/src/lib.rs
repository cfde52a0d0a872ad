//! The smallest Leptos clients, one building block at a time; see `Cargo.toml`'s features.

use leptos::prelude::*;
use wasm_bindgen::prelude::*;

/// Without features: one component with a signal and a button.
#[component]
fn Counter() -> impl IntoView {
    let (count, set_count) = signal(0u32);
    view! { <button on:click=move |_| set_count.update(|c| *c += 1)>{move || count.get()}</button> }
}

#[cfg(feature = "list")]
mod list {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
    pub struct Line {
        pub seq: u64,
        pub name: String,
        pub text: String,
    }

    #[cfg(feature = "resource")]
    #[server(prefix = "/fn", endpoint = "lines")]
    pub async fn lines(room: String) -> Result<Vec<Line>, ServerFnError> {
        let _ = room;
        Ok(vec![])
    }

    #[component]
    pub fn Room() -> impl IntoView {
        let (items, set_items) = signal(Vec::<Line>::new());
        let (draft, set_draft) = signal(String::new());
        if let Ok(socket) = web_sys::WebSocket::new("ws://127.0.0.1/ws") {
            let on_message =
                Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                    if let Some(line) =
                        e.data().as_string().and_then(|t| serde_json::from_str::<Line>(&t).ok())
                    {
                        set_items.update(|v| v.push(line));
                    }
                });
            socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            on_message.forget();
        }
        view! {
            <ul>
                <For each=move || items.get() key=|l| l.seq let:l>
                    <li><b>{l.name}</b>": "{l.text}</li>
                </For>
            </ul>
            {resource()}
            <input prop:value=draft on:input=move |e| set_draft.set(event_target_value(&e))/>
            <button on:click=move |_| set_draft.set(String::new())>"Send"</button>
            {ten()}
        }
    }

    #[cfg(feature = "resource")]
    fn resource() -> impl IntoView {
        let res = Resource::new(|| (), |_| lines("lobby".into()));
        view! { <Suspense fallback=|| "...">{move || res.get().map(|r| r.map(|v| v.len()).unwrap_or(0))}</Suspense> }
    }

    #[cfg(not(feature = "resource"))]
    fn resource() -> impl IntoView {}

    #[cfg(feature = "ten")]
    fn ten() -> impl IntoView {
        view! { <A1/><A2/><A3/><A4/><A5/><A6/><A7/><A8/><A9/><A10/> }
    }

    #[cfg(not(feature = "ten"))]
    fn ten() -> impl IntoView {}

    macro_rules! small {
        ($($name:ident),*) => { $(
            #[cfg(feature = "ten")]
            #[component]
            fn $name() -> impl IntoView {
                let (c, set_c) = signal(0u32);
                let double = Memo::new(move |_| c.get() * 2);
                view! {
                    <div class=move || if c.get() % 2 == 0 { "even" } else { "odd" }>
                        <button on:click=move |_| set_c.update(|c| *c += 1)>{stringify!($name)}</button>
                        <Show when=move || { double.get() > 4 } fallback=|| view! { <span>"small"</span> }>
                            <span>{move || double.get()}</span>
                        </Show>
                    </div>
                }
            }
        )* };
    }
    small!(A1, A2, A3, A4, A5, A6, A7, A8, A9, A10);
}

#[cfg(not(feature = "list"))]
#[wasm_bindgen]
pub fn hydrate() {
    leptos::mount::hydrate_body(Counter);
}

#[cfg(all(feature = "list", not(feature = "router")))]
#[wasm_bindgen]
pub fn hydrate() {
    let _ = Counter;
    leptos::mount::hydrate_body(list::Room);
}

#[cfg(feature = "router")]
#[wasm_bindgen]
pub fn hydrate() {
    use leptos_router::components::{Route, Router, Routes};
    use leptos_router::path;
    let _ = Counter;
    leptos::mount::hydrate_body(|| {
        view! { <Router><Routes fallback=|| "not found"><Route path=path!("/r/:room") view=list::Room/></Routes></Router> }
    });
}

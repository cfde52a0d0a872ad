//! The chat application shared by the server (rendered with `ssr`) and the browser (compiled to
//! wasm with `hydrate`): the wire protocol, the checked names, and the Leptos components.

pub mod api;
pub mod backoff;
mod connection;
pub mod history;
pub mod log;
pub mod names;
pub mod outbox;
pub mod protocol;

#[cfg(feature = "hydrate")]
mod client;
mod components;

use components::room_page::{LobbyPage, RoomPage};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet};
use leptos_router::{
    components::{Route, Router, Routes},
    ParamSegment, SsrMode, StaticSegment,
};

/// The name cargo-leptos gives the site's wasm, JS and CSS (`[[workspace.metadata.leptos]] name`).
pub const SITE_NAME: &str = "chat";

/// The HTML document around the app: rendered by the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href=format!("/pkg/{SITE_NAME}.css")/>
        <Router>
            <Routes fallback=|| view! { <p class="not-found">"Page not found."</p> }>
                // Async: the page is sent once the room's history is read, so it is complete
                // even for a reader without JavaScript (streamed parts would need a script).
                <Route path=StaticSegment("") view=LobbyPage ssr=SsrMode::Async/>
                <Route path=(StaticSegment("r"), ParamSegment("room")) view=RoomPage ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}

//! The chat application shared by the server (rendered with `ssr`) and the browser (compiled to
//! wasm with `hydrate`): the wire protocol, the checked names, and the Leptos components.

// The room page's view type is deep; the default limit (128) is too low to lay it out.
#![recursion_limit = "256"]

pub mod api;
pub mod backoff;
mod connection;
pub mod history;
pub mod linkify;
pub mod log;
pub mod markup;
pub mod mention;
pub mod names;
pub mod outbox;
pub mod protocol;
pub mod quote;
pub mod reactions;
pub mod roster;
pub mod search;
mod session;
pub mod timeline;

#[cfg(feature = "hydrate")]
mod client;
mod components;

use components::account::AccountPage;
use components::room_page::{JoinPage, LobbyPage, RoomPage};
use components::search::SearchPage;
use components::shell::Sidebar;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags};
use leptos_router::{
    components::{Route, Router, Routes},
    ParamSegment, SsrMode, StaticSegment,
};

/// The name cargo-leptos gives the site's wasm, JS and CSS (`[[workspace.metadata.leptos]] name`).
pub const SITE_NAME: &str = "chat";

/// The site's stylesheet, when the server gives it to be written into every page's head (the
/// release binary's own copy): the first paint then waits for no second request, which on a
/// slow phone network is a whole round trip (562.5 ms on DevTools' "Fast 3G"). Without it
/// (a site served from a directory, where cargo-leptos reloads the stylesheet while it is
/// worked on) the page links to the file.
#[derive(Clone, Debug)]
pub struct InlineStyle(pub std::sync::Arc<str>);

/// The HTML document around the app: rendered by the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // Written as it is (CSS is not HTML): a stylesheet that could end its element is linked instead.
    let inline = use_context::<InlineStyle>().filter(|style| !style.0.contains("</"));
    let style = match inline {
        Some(style) => {
            view! { <style nonce=leptos::nonce::use_nonce() inner_html=style.0.to_string()></style> }
                .into_any()
        }
        None => {
            view! { <link rel="stylesheet" id="leptos" href=format!("/pkg/{SITE_NAME}.css")/> }.into_any()
        }
    };
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                {style}
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
    session::Session::provide();
    #[cfg(feature = "ssr")]
    content_security_policy();
    // Marks the page as live (tests and styles can tell a hydrated page from the server's HTML).
    #[cfg(feature = "hydrate")]
    Effect::new(|_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "");
        }
    });
    view! {
        <Router>
            <div class="app">
                <a class="skip-link" href="#message" on:click=skip_to_message>"Skip to the message box"</a>
                <Sidebar/>
                <Routes fallback=|| view! { <main class="room" id="main"><h1>"Page not found"</h1></main> }>
                    // Async: the page is sent once the room's history is read, so it is complete
                    // even for a reader without JavaScript (streamed parts would need a script).
                    <Route path=StaticSegment("") view=LobbyPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("r"), ParamSegment("room")) view=RoomPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("join") view=JoinPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("account") view=AccountPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("search") view=SearchPage ssr=SsrMode::Async/>
                </Routes>
            </div>
        </Router>
    }
}

/// Moves the keyboard focus to the message box (the router would only scroll to it).
fn skip_to_message(ev: leptos::ev::MouseEvent) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let field =
            document().get_element_by_id("message").and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(field) = field {
            ev.prevent_default();
            let _ = field.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

/// The page's Content-Security-Policy: its own scripts (the hydration script by its nonce), its
/// own wasm, styles (the stylesheet in the head by the same nonce), images and connections; no
/// plugins, no framing, forms only to itself. An injected script or handler would not run even
/// if markup ever got through.
#[cfg(feature = "ssr")]
fn content_security_policy() {
    let (Some(nonce), Some(response)) =
        (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self' 'nonce-{nonce}'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(value) = http::HeaderValue::from_str(&policy) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

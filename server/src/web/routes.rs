//! The HTTP surface: pages, WebSocket endpoints, history pages, health, static files.

use super::state::AppState;
use super::{accounts, audit, backend, history, posting, search};
use crate::codec::Dialect;
use crate::transport;
use app::{shell, App};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{middleware, routing::delete, routing::get, routing::post, Router};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::compression::CompressionLayer;

pub fn app(state: AppState) -> Router {
    // Pages and static files are compressed: the wasm shrinks to about 40 % with gzip.
    // The WebSocket endpoints stay outside that layer, so handshakes pass untouched.
    let pages = Router::new()
        .route("/api/rooms", get(backend::rooms))
        .route("/api/rooms/{room}/messages", get(history::messages).post(posting::post_message))
        .route("/api/rooms/{room}/audit", get(audit::audit))
        .route("/api/search", get(search::search_api))
        .route("/api/session", post(backend::create_session))
        .route("/api/accounts", post(accounts::register))
        .route("/api/login", post(accounts::log_in))
        .route("/api/logout", post(accounts::log_out))
        .route("/api/password", post(accounts::change_password))
        .route("/api/sessions", get(accounts::sessions))
        .route("/api/sessions/{id}", delete(accounts::end_session))
        .route(&format!("{}/{{*name}}", app::api::PREFIX), get(server_fn).post(server_fn))
        .leptos_routes_with_context(
            &state,
            generate_route_list(App),
            {
                let backend = backend::context(state.clone());
                let style = state.site.inline_style().map(app::InlineStyle);
                move || {
                    provide_context(backend.clone());
                    if let Some(style) = &style {
                        provide_context(style.clone());
                    }
                }
            },
            {
                let options = state.leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(site_file_or_page)
        .layer(middleware::map_response(security_headers))
        .layer(CompressionLayer::new());
    let app = Router::new()
        .route("/healthz", get(super::health::healthz))
        .route("/readyz", get(super::health::readyz))
        .route("/chat", get(transport::lobby))
        .route("/chat/{room}", get(transport::room))
        .route("/echo", get(transport::echo))
        .merge(pages)
        .layer(middleware::from_fn_with_state(state.endpoints.clone(), transport::seed_root));
    guarded(app, state)
}

/// Seed 004's echo server, on a listener of its own: its pages connect to `/chat` and
/// `/chatsocket` on their own port, where this server's rooms would otherwise be.
pub fn echo_listener(state: AppState) -> Router {
    guarded(Router::new().fallback(get(transport::seed_echo)), state)
}

/// Seed 004's Tornado room, on a listener of its own: its page connects to `/chat` with a
/// handshake like the plain dialect's, so the listener is what tells them apart. Its rooms are
/// this server's.
pub fn tornado_listener(state: AppState) -> Router {
    let app = Router::new()
        .route("/chat", get(transport::lobby))
        .route("/chat/{room}", get(transport::room))
        .layer(axum::Extension(transport::Speaks(Dialect::Tornado)));
    guarded(app, state)
}

/// What every listener's requests pass, whatever their route.
fn guarded(app: Router<AppState>, state: AppState) -> Router {
    app.layer(middleware::from_fn_with_state(state.clone(), read_body_in_time))
        // Outermost: no other site's page gets in, whatever the route, nor a request for a name
        // this server does not have.
        .layer(middleware::from_fn_with_state(state.origins.clone(), transport::origin::guard))
        .layer(middleware::from_fn_with_state(state.hosts.clone(), transport::host::guard))
        .with_state(state)
}

/// A file of the site, from the binary or its directory; otherwise the page that says there is
/// no such thing.
async fn site_file_or_page(State(state): State<AppState>, request: Request) -> Response {
    if let Some(file) = state.site.serve(request.uri().path(), request.headers()) {
        return file;
    }
    let uri = request.uri().clone();
    leptos_axum::file_and_error_handler::<AppState, _>(shell)(uri, State(state), request).await
}

/// The pages' server functions (`app::api`), with the backend they reach the server through.
async fn server_fn(State(state): State<AppState>, request: Request) -> axum::response::Response {
    let backend = backend::context(state);
    leptos_axum::handle_server_fns_with_context(move || provide_context(backend.clone()), request)
        .await
        .into_response()
}

/// Headers for every page and file: no MIME sniffing, no framing by other sites, no referrer to
/// other sites. (The Content-Security-Policy carries a fresh nonce: the app sets it per page.)
async fn security_headers(mut response: axum::response::Response) -> axum::response::Response {
    use axum::http::{header, HeaderValue};
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}

/// Reads a request's body whole, within the body deadline and the size limit, before anything
/// handles it: a body trickled in a byte at a time, or one larger than any form or JSON request
/// this server takes, does not hold a connection (408, 413). Requests without a body pass as
/// they are.
async fn read_body_in_time(State(state): State<AppState>, request: Request, next: Next) -> Response {
    use axum::body::{Body, HttpBody};
    use axum::http::StatusCode;
    if request.body().size_hint().exact() == Some(0) {
        return next.run(request).await;
    }
    let limit = state.limits.max_body_bytes;
    let (parts, body) = request.into_parts();
    if body.size_hint().lower() > limit as u64 {
        return too_large(limit);
    }
    match tokio::time::timeout(state.limits.body_deadline, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Ok(Err(err)) if is_over_limit(&err) => too_large(limit),
        Ok(Err(_)) => (StatusCode::BAD_REQUEST, "the request body could not be read").into_response(),
        Err(_) => (StatusCode::REQUEST_TIMEOUT, "the request body took too long to arrive").into_response(),
    }
}

fn too_large(limit: usize) -> Response {
    let why = format!("the request body is too large: at most {limit} bytes");
    (axum::http::StatusCode::PAYLOAD_TOO_LARGE, why).into_response()
}

fn is_over_limit(err: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(cause) = source {
        if cause.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = cause.source();
    }
    false
}

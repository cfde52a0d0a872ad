//! The built site (wasm, JS, CSS, assets): inside the release binary, so that it serves its
//! pages from any directory with nothing beside it; or from a directory (`--site-root`), as
//! cargo-leptos writes it while the site is being worked on.
//!
//! The release build compresses every file ahead of time (cargo-leptos's `precompress`): each
//! is sent as its Brotli or gzip copy when the browser takes one, so no request pays for
//! compressing the wasm again.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The site as `cargo leptos build --release` left it when the server was built (the server's
/// build script makes it rebuild when the site changes). Debug builds read the directory.
#[cfg(not(debug_assertions))]
#[derive(rust_embed::Embed)]
#[folder = "../target/site/"]
#[allow_missing = true]
struct Built;

/// Where the site's files come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Site {
    /// From the binary.
    Embedded,
    /// From this directory.
    Directory(String),
}

/// Where cargo-leptos writes the site, relative to the workspace.
pub const DEFAULT_ROOT: &str = "target/site";

impl Site {
    /// The directory `root` if given; otherwise the binary's own site if it has one, or the
    /// default directory (a debug build, or a release built before the site was).
    pub fn choose(root: Option<&str>) -> Self {
        match root {
            Some(root) => Self::Directory(root.to_owned()),
            None if embedded_files() > 0 => Self::Embedded,
            None => Self::Directory(DEFAULT_ROOT.to_owned()),
        }
    }

    /// The directory leptos is told of: the site's, or (embedded) the default, where nothing
    /// is looked for but what the binary does not have.
    pub fn root(&self) -> &str {
        match self {
            Self::Embedded => DEFAULT_ROOT,
            Self::Directory(root) => root,
        }
    }

    /// The embedded file at `path`, in the best encoding `headers` accept; `None` if the binary
    /// has no such file (or no site), for the directory and the error page to answer.
    pub fn serve(&self, path: &str, headers: &HeaderMap) -> Option<Response> {
        match self {
            Self::Embedded => serve_embedded(path.trim_start_matches('/'), headers),
            Self::Directory(_) => None,
        }
    }

    /// The stylesheet the binary carries, for the pages to carry in their head (see
    /// `app::InlineStyle`); `None` for a site served from a directory, whose pages link to the
    /// file so that cargo-leptos can reload it while it is worked on.
    pub fn inline_style(&self) -> Option<std::sync::Arc<str>> {
        match self {
            Self::Embedded => embedded_text(&format!("pkg/{}.css", app::SITE_NAME)),
            Self::Directory(_) => None,
        }
    }
}

#[cfg(not(debug_assertions))]
fn embedded_text(path: &str) -> Option<std::sync::Arc<str>> {
    let file = Built::get(path)?;
    std::str::from_utf8(&file.data).ok().map(std::sync::Arc::from)
}

#[cfg(debug_assertions)]
fn embedded_text(_path: &str) -> Option<std::sync::Arc<str>> {
    None
}

#[cfg(not(debug_assertions))]
fn embedded_files() -> usize {
    Built::iter().count()
}

#[cfg(debug_assertions)]
fn embedded_files() -> usize {
    0
}

#[cfg(not(debug_assertions))]
fn serve_embedded(path: &str, headers: &HeaderMap) -> Option<Response> {
    // The compressed copies are files of their own, never asked for by name.
    if path.is_empty() || path.ends_with(".br") || path.ends_with(".gz") {
        return None;
    }
    let file = Built::get(path)?;
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains(&etag)) {
        return Some(with_headers(StatusCode::NOT_MODIFIED, Body::empty(), &file, &etag, None));
    }
    let accepted = headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("");
    for (encoding, suffix) in [("br", ".br"), ("gzip", ".gz")] {
        if accepts(accepted, encoding) {
            if let Some(copy) = Built::get(&format!("{path}{suffix}")) {
                let body = body_of(copy.data);
                return Some(with_headers(StatusCode::OK, body, &file, &etag, Some(encoding)));
            }
        }
    }
    let body = body_of(file.data.clone());
    Some(with_headers(StatusCode::OK, body, &file, &etag, None))
}

/// The bytes in the binary, sent without a copy.
#[cfg(not(debug_assertions))]
fn body_of(data: std::borrow::Cow<'static, [u8]>) -> Body {
    match data {
        std::borrow::Cow::Borrowed(bytes) => Body::from(bytes),
        std::borrow::Cow::Owned(bytes) => Body::from(bytes),
    }
}

#[cfg(debug_assertions)]
fn serve_embedded(_path: &str, _headers: &HeaderMap) -> Option<Response> {
    None
}

#[cfg(not(debug_assertions))]
fn with_headers(
    status: StatusCode,
    body: Body,
    file: &rust_embed::EmbeddedFile,
    etag: &str,
    encoding: Option<&'static str>,
) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    if let Ok(kind) = HeaderValue::from_str(file.metadata.mimetype()) {
        headers.insert(header::CONTENT_TYPE, kind);
    }
    if let Ok(etag) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, etag);
    }
    // The files keep their names from one build to the next: the browser asks again each
    // time, and is answered 304 while the file is the same.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Some(encoding) = encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    response
}

/// Whether an `Accept-Encoding` value takes `encoding` (named, or `*`, and not with q=0).
fn accepts(accepted: &str, encoding: &str) -> bool {
    accepted.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or("");
        let refused = parts
            .any(|p| p.strip_prefix("q=").is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0)));
        (name.eq_ignore_ascii_case(encoding) || name == "*") && !refused
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_are_taken_as_the_browser_offers_them() {
        assert!(accepts("gzip, deflate, br, zstd", "br"));
        assert!(accepts("gzip, deflate, br, zstd", "gzip"));
        assert!(!accepts("gzip, deflate", "br"));
        assert!(!accepts("br;q=0, gzip", "br"));
        assert!(accepts("br;q=0.5", "br"));
        assert!(accepts("*", "gzip"));
        assert!(!accepts("", "gzip"));
        assert!(!accepts("brotli", "br"));
    }

    #[test]
    fn a_directory_given_is_used_whatever_the_binary_holds() {
        assert_eq!(Site::choose(Some("/srv/site")), Site::Directory("/srv/site".into()));
        assert_eq!(Site::choose(Some("/srv/site")).root(), "/srv/site");
        assert_eq!(Site::Embedded.root(), DEFAULT_ROOT);
    }
}

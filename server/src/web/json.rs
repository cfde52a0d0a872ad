//! What every JSON endpoint shares: reading a JSON body, and answering with a status and a
//! reason.

use axum::body::Body;
use axum::http::{header, request::Parts, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// The body of a request, read as JSON: 415 unless it says it is JSON, 400 if it is not, or not
/// what `T` takes. (The body's size and time were bounded before any handler ran.)
pub async fn body<T: DeserializeOwned>(parts: &Parts, body: Body, limit: usize) -> Result<T, Response> {
    let json = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(';').next().is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
    });
    if !json {
        return Err((StatusCode::UNSUPPORTED_MEDIA_TYPE, "send JSON (Content-Type: application/json)")
            .into_response());
    }
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| (StatusCode::BAD_REQUEST, "the request body could not be read").into_response())?;
    serde_json::from_slice(&bytes)
        .map_err(|err| (StatusCode::BAD_REQUEST, format!("bad request: {err}")).into_response())
}

/// 429 with `Retry-After` in whole seconds.
pub fn too_many(reason: String, retry_after: Duration) -> Response {
    let seconds = u64::try_from(retry_after.as_millis().div_ceil(1000)).unwrap_or(u64::MAX).max(1);
    let mut response = (StatusCode::TOO_MANY_REQUESTS, reason).into_response();
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

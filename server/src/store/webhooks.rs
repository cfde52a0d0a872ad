//! Outgoing webhooks as the store keeps them: each one's room, URL and secret, how far along
//! the room's log it has delivered, and which node delivers it now (a lease, so that with
//! several nodes each message is POSTed by one of them). The delivering is
//! [`webhooks`](crate::webhooks)'s.

use app::names::RoomName;
use app::protocol::{Epoch, Millis, Seq};

/// A webhook and where its delivery stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: i64,
    pub room: RoomName,
    pub url: String,
    /// Signs every delivery (HMAC-SHA256); shown once, when the webhook is made.
    pub secret: String,
    pub created_at: Millis,
    /// The log `delivered` is a number of (0 before the room had one).
    pub epoch: Epoch,
    /// The last number delivered, or passed over (not a message).
    pub delivered: Seq,
    /// Attempts that failed since the last delivery, and why the last one did.
    pub failures: u32,
    pub last_error: String,
    /// The node delivering it, while its lease lasts.
    pub lease_owner: String,
}

/// Where a delivery stands after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub epoch: Epoch,
    pub delivered: Seq,
    pub failures: u32,
    pub last_error: String,
}

/// The statements, in both databases' dialect.
pub(super) mod sql {
    pub const ALL: &str = "SELECT id, room, url, secret, created_at, epoch, delivered, failures, last_error,
        lease_owner FROM webhooks ORDER BY id";
    /// A new webhook delivers what its room's log holds after it now.
    pub const ADD: &str = "INSERT INTO webhooks (room, url, secret, created_at, epoch, delivered)
        VALUES ($1, $2, $3, $4, COALESCE((SELECT epoch FROM rooms WHERE name = $1), 0),
                COALESCE((SELECT last_seq FROM rooms WHERE name = $1), 0))
        RETURNING id, epoch, delivered";
    pub const REMOVE: &str = "DELETE FROM webhooks WHERE id = $1";
    /// Taken by `$2` until `$4` if it holds it already, or nobody's lease lasts past `$3`.
    pub const LEASE: &str = "UPDATE webhooks SET lease_owner = $2, lease_until = $4
        WHERE id = $1 AND (lease_owner = $2 OR lease_until < $3)";
    pub const PROGRESS: &str =
        "UPDATE webhooks SET epoch = $3, delivered = $4, failures = $5, last_error = $6
        WHERE id = $1 AND lease_owner = $2";
}

/// A row of [`sql::ALL`]; a damaged one is left out, and named in the log.
#[allow(clippy::type_complexity)]
pub(super) fn from_row(
    (id, room, url, secret, created_at, epoch, delivered, failures, last_error, lease_owner): (
        i64,
        String,
        String,
        String,
        i64,
        i64,
        i64,
        i64,
        String,
        String,
    ),
) -> Option<Webhook> {
    let room = match RoomName::parse(&room) {
        Ok(room) => room,
        Err(err) => {
            tracing::warn!(id, room, %err, "skipped a damaged webhook");
            return None;
        }
    };
    Some(Webhook {
        id,
        room,
        url,
        secret,
        created_at,
        epoch,
        delivered: Seq::try_from(delivered).unwrap_or(0),
        failures: u32::try_from(failures).unwrap_or(u32::MAX),
        last_error,
        lease_owner,
    })
}

/// Makes each store's copy of the webhooks' statements (the same SQL; only the connection's
/// type differs).
macro_rules! webhook_ops {
    ($conn:ty) => {
        async fn all_webhooks(conn: &mut $conn) -> Result<Vec<$crate::store::webhooks::Webhook>, StoreError> {
            let rows = sqlx::query_as($crate::store::webhooks::sql::ALL).fetch_all(&mut *conn).await?;
            Ok(rows.into_iter().filter_map($crate::store::webhooks::from_row).collect())
        }

        async fn add_webhook(
            conn: &mut $conn,
            room: &app::names::RoomName,
            url: &str,
            secret: &str,
            at: app::protocol::Millis,
        ) -> Result<$crate::store::webhooks::Webhook, StoreError> {
            let (id, epoch, delivered): (i64, i64, i64) = sqlx::query_as($crate::store::webhooks::sql::ADD)
                .bind(room.as_str())
                .bind(url)
                .bind(secret)
                .bind(at)
                .fetch_one(&mut *conn)
                .await?;
            Ok($crate::store::webhooks::Webhook {
                id,
                room: room.clone(),
                url: url.to_owned(),
                secret: secret.to_owned(),
                created_at: at,
                epoch,
                delivered: app::protocol::Seq::try_from(delivered).unwrap_or(0),
                failures: 0,
                last_error: String::new(),
                lease_owner: String::new(),
            })
        }

        async fn remove_webhook(conn: &mut $conn, id: i64) -> Result<bool, StoreError> {
            let done = sqlx::query($crate::store::webhooks::sql::REMOVE).bind(id).execute(&mut *conn).await?;
            Ok(done.rows_affected() > 0)
        }

        async fn lease_webhook(
            conn: &mut $conn,
            id: i64,
            owner: &str,
            now: app::protocol::Millis,
            until: app::protocol::Millis,
        ) -> Result<bool, StoreError> {
            let done = sqlx::query($crate::store::webhooks::sql::LEASE)
                .bind(id)
                .bind(owner)
                .bind(now)
                .bind(until)
                .execute(&mut *conn)
                .await?;
            Ok(done.rows_affected() > 0)
        }

        async fn webhook_progress(
            conn: &mut $conn,
            id: i64,
            owner: &str,
            progress: &$crate::store::webhooks::Progress,
        ) -> Result<bool, StoreError> {
            let done = sqlx::query($crate::store::webhooks::sql::PROGRESS)
                .bind(id)
                .bind(owner)
                .bind(progress.epoch)
                .bind($crate::store::seq_to_sql(progress.delivered))
                .bind(i64::from(progress.failures))
                .bind(progress.last_error.as_str())
                .execute(&mut *conn)
                .await?;
            Ok(done.rows_affected() > 0)
        }
    };
}
pub(super) use webhook_ops;

/// Checks a URL a webhook may POST to: `http://` or `https://`, with a host, and nothing that
/// would put a password in the server's log. Returns why not.
pub fn check_url(url: &str) -> Result<(), String> {
    let uri: axum::http::Uri = url.parse().map_err(|err| format!("not a URL: {err}"))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err("a webhook's URL starts with http:// or https://".into()),
    }
    let Some(authority) = uri.authority() else { return Err("a webhook's URL names a host".into()) };
    if authority.as_str().contains('@') {
        return Err("no credentials in the URL: the signature is how a receiver knows the sender".into());
    }
    if url.len() > 2000 {
        return Err("a webhook's URL is at most 2000 bytes".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_url;

    #[test]
    fn a_webhook_posts_to_http_urls_only() {
        assert!(check_url("http://127.0.0.1:9000/hook").is_ok());
        assert!(check_url("https://hooks.example.org/chat?x=1").is_ok());
        assert!(check_url("ftp://example.org/").is_err());
        assert!(check_url("/relative").is_err());
        assert!(check_url("http://user:pw@example.org/").is_err());
        assert!(check_url("not a url").is_err());
    }
}

impl From<&Webhook> for Progress {
    fn from(hook: &Webhook) -> Self {
        Self {
            epoch: hook.epoch,
            delivered: hook.delivered,
            failures: hook.failures,
            last_error: hook.last_error.clone(),
        }
    }
}

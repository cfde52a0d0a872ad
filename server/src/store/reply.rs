//! Replies as an append stores them: each answered message is looked up in the same
//! transaction, so that the reply's own event carries its quote as history will read it. A
//! reply to a number that is not a message of the room (a change, a number past the log's end)
//! is stored as a message that answers nothing; one to a deleted message keeps its link and
//! quotes nothing.

use super::NewMessage;
use app::names::Nickname;
use app::protocol::Seq;
use app::quote::Quote;

/// The answered message's row, in both databases' dialect (`$1`: the room, `$2`: its number).
pub(super) const QUOTED: &str =
    "SELECT author, text, deleted_at FROM messages WHERE room = $1 AND seq = $2 AND kind = 0";

/// The quote of message `id` from its row (`None`: no such message).
pub(super) fn quote_of(id: Seq, row: Option<(String, String, Option<i64>)>) -> Option<Quote> {
    let (author, text, deleted) = row?;
    Some(match (Nickname::parse(&author), deleted) {
        (Ok(author), None) => Quote::of(id, author, &text),
        _ => Quote::gone(id),
    })
}

/// Whether any message of `batch` is a reply: a batch without one reads nothing more.
pub(super) fn any(batch: &[NewMessage]) -> bool {
    batch.iter().any(|msg| msg.reply_to.is_some())
}

/// Makes each store's copy of the lookup (the same SQL; only the connection's type differs).
macro_rules! reply_ops {
    ($conn:ty) => {
        /// The quote of what each message of `batch` answers, in order (`None`: it answers
        /// nothing there is).
        async fn quotes(
            conn: &mut $conn,
            batch: &[NewMessage],
        ) -> Result<Vec<Option<app::quote::Quote>>, StoreError> {
            use $crate::store::reply;
            let mut quotes = Vec::with_capacity(batch.len());
            if !reply::any(batch) {
                quotes.resize(batch.len(), None);
                return Ok(quotes);
            }
            for msg in batch {
                let Some(id) = msg.reply_to else {
                    quotes.push(None);
                    continue;
                };
                let row: Option<(String, String, Option<i64>)> = sqlx::query_as(reply::QUOTED)
                    .bind(msg.room.as_str())
                    .bind($crate::store::seq_to_sql(id))
                    .fetch_optional(&mut *conn)
                    .await?;
                quotes.push(reply::quote_of(id, row));
            }
            Ok(quotes)
        }
    };
}
pub(super) use reply_ops;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quote_is_read_from_the_answered_row() {
        let row = |author: &str, deleted| Some((author.to_owned(), "lunch?".to_owned(), deleted));
        assert_eq!(quote_of(3, None), None, "no such message: no reply");
        assert_eq!(
            quote_of(3, row("bob", None)),
            Some(Quote::of(3, Nickname::parse("bob").unwrap(), "lunch?"))
        );
        assert_eq!(quote_of(3, row("bob", Some(1))), Some(Quote::gone(3)), "deleted: quoted as gone");
        assert_eq!(quote_of(3, row("", None)), Some(Quote::gone(3)), "a damaged author: gone too");
    }
}

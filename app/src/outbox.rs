//! Messages the reader has sent that the server has not acknowledged yet. They are shown as
//! pending, (re)sent whenever a connection is ready, and leave only when acknowledged: a message
//! typed while offline, or lost with a dying connection, is sent once it can be. The server
//! recognises resends by their id, so none is stored twice.

use crate::names::{ClientId, MessageText};
use crate::protocol::{ClientMessage, MAX_FRAME_BYTES};
use std::collections::VecDeque;

/// More unsent messages than this are refused: the reader is told rather than the page growing.
pub const MAX_PENDING: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub id: ClientId,
    pub text: MessageText,
    /// The message it answers.
    pub reply_to: Option<crate::protocol::Seq>,
}

impl Pending {
    /// What is sent for it, the first time and every time again.
    pub fn request(&self) -> ClientMessage {
        ClientMessage::Send { id: self.id.clone(), text: self.text.clone(), reply_to: self.reply_to }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outbox {
    pending: VecDeque<Pending>,
}

/// Why a message was not queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotQueued {
    #[error("Too many messages are waiting to be sent: wait for the connection to come back.")]
    Full,
    /// Its frame would be over the server's limit (control characters are escaped sixfold in
    /// JSON): the server would close the connection, and a resend would do the same again.
    #[error("This message is too long to send ({0} bytes encoded, at most {MAX_FRAME_BYTES}): shorten it.")]
    TooLong(usize),
}

impl Outbox {
    pub fn push(&mut self, pending: Pending) -> Result<(), NotQueued> {
        if self.pending.len() >= MAX_PENDING {
            return Err(NotQueued::Full);
        }
        let frame = pending.request().to_json();
        if frame.len() > MAX_FRAME_BYTES {
            return Err(NotQueued::TooLong(frame.len()));
        }
        self.pending.push_back(pending);
        Ok(())
    }

    /// The server acknowledged `id`: it is stored.
    pub fn acknowledge(&mut self, id: &ClientId) {
        self.pending.retain(|p| &p.id != id);
    }

    /// Oldest first: the order they are sent in.
    /// Forgets every pending message: none of them will be posted.
    pub fn clear(&mut self) {
        self.pending.clear();
    }

    pub fn iter(&self) -> impl Iterator<Item = &Pending> {
        self.pending.iter()
    }

    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(i: u32) -> Pending {
        Pending {
            id: ClientId::from_random([i, 0, 0]),
            text: MessageText::parse(&format!("m{i}")).unwrap(),
            reply_to: None,
        }
    }

    #[test]
    fn pending_until_acknowledged_in_order() {
        let mut outbox = Outbox::default();
        for i in 0..3 {
            outbox.push(pending(i)).unwrap();
        }
        outbox.acknowledge(&pending(1).id);
        let left: Vec<_> = outbox.iter().map(|p| p.text.to_string()).collect();
        assert_eq!(left, vec!["m0", "m2"]);
        outbox.acknowledge(&pending(7).id); // an ack for something else changes nothing
        assert_eq!(outbox.len(), 2);
    }

    #[test]
    fn a_message_whose_frame_is_over_the_limit_is_refused() {
        let mut outbox = Outbox::default();
        // 4,096 bytes of text, allowed, but each quote escaped as \": over 8 KiB of JSON.
        let text = MessageText::parse(&"\"".repeat(MessageText::MAX_BYTES)).unwrap();
        let refused = outbox.push(Pending { id: pending(1).id, text, reply_to: None });
        assert!(matches!(refused, Err(NotQueued::TooLong(n)) if n > MAX_FRAME_BYTES), "{refused:?}");
        assert!(outbox.is_empty());
        let text = MessageText::parse(&"é".repeat(2_000)).unwrap();
        assert!(outbox.push(Pending { id: pending(2).id, text, reply_to: None }).is_ok());
    }

    #[test]
    fn bounded() {
        let mut outbox = Outbox::default();
        for i in 0..MAX_PENDING as u32 {
            outbox.push(pending(i)).unwrap();
        }
        assert_eq!(outbox.push(pending(999)), Err(NotQueued::Full));
        outbox.acknowledge(&pending(0).id);
        assert!(outbox.push(pending(999)).is_ok());
    }
}

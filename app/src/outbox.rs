//! Messages the reader has sent that the server has not acknowledged yet. They are shown as
//! pending, (re)sent whenever a connection is ready, and leave only when acknowledged: a message
//! typed while offline, or lost with a dying connection, is sent once it can be. The server
//! recognises resends by their id, so none is stored twice.

use crate::names::{ClientId, MessageText};
use std::collections::VecDeque;

/// More unsent messages than this are refused: the reader is told rather than the page growing.
pub const MAX_PENDING: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub id: ClientId,
    pub text: MessageText,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outbox {
    pending: VecDeque<Pending>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Too many messages are waiting to be sent: wait for the connection to come back.")]
pub struct OutboxFull;

impl Outbox {
    pub fn push(&mut self, pending: Pending) -> Result<(), OutboxFull> {
        if self.pending.len() >= MAX_PENDING {
            return Err(OutboxFull);
        }
        self.pending.push_back(pending);
        Ok(())
    }

    /// The server acknowledged `id`: it is stored.
    pub fn acknowledge(&mut self, id: &ClientId) {
        self.pending.retain(|p| &p.id != id);
    }

    /// Oldest first: the order they are sent in.
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
        Pending { id: ClientId::from_random([i, 0, 0]), text: MessageText::parse(&format!("m{i}")).unwrap() }
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
    fn bounded() {
        let mut outbox = Outbox::default();
        for i in 0..MAX_PENDING as u32 {
            outbox.push(pending(i)).unwrap();
        }
        assert_eq!(outbox.push(pending(999)), Err(OutboxFull));
        outbox.acknowledge(&pending(0).id);
        assert!(outbox.push(pending(999)).is_ok());
    }
}

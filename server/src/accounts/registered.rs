//! The nicknames registered, kept in memory: nearly every connection comes under a name nobody
//! registered, and this tells so without a query. Only a name that may be registered is looked
//! up. With other nodes, the names they register are read from the store every second (see
//! [`super::Accounts::keep_up`]): a name registered on one node is refused to guests on the
//! others within a second.
//!
//! Each name is kept as a 64-bit hash of its key: a collision only costs a query.

use crate::store::{DynStore, StoreError};
use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::sync::{PoisonError, RwLock};

#[derive(Debug)]
pub struct Registered {
    hashes: RwLock<HashSet<u64>>,
    hasher: RandomState,
}

impl Registered {
    /// Every name the store has registered.
    pub async fn load(store: &DynStore) -> Result<Self, StoreError> {
        let hasher = RandomState::new();
        let hashes = store.account_keys().await?.iter().map(|key| hasher.hash_one(key.as_str())).collect();
        Ok(Self { hashes: RwLock::new(hashes), hasher })
    }

    /// Whether the name whose key is `key` may be registered (`false`: it is not).
    pub fn may_be(&self, key: &str) -> bool {
        let hash = self.hasher.hash_one(key);
        self.hashes.read().unwrap_or_else(PoisonError::into_inner).contains(&hash)
    }

    /// The name whose key is `key` was registered.
    pub fn add(&self, key: &str) {
        let hash = self.hasher.hash_one(key);
        self.hashes.write().unwrap_or_else(PoisonError::into_inner).insert(hash);
    }
}

//! Registered nicknames: a nickname registered with a password belongs to its owner, in every
//! room, on every device they log in from; anyone else is refused it, whichever way they come.
//! Every other nickname stays free for guests, as before.
//!
//! A login is a server-side session: the session token (signed, as a guest's) names the
//! account's nickname and a fresh session id, and a row in `logins` says that session is logged
//! in. The signature alone could not be revoked; the row can, so logging out, ending a session
//! from another device and changing the password end a session everywhere, at its next
//! connection or request. (The connections it holds now are closed by the caller: see
//! [`crate::transport`].)
//!
//! - [`password`]: hashing, off the async threads and bounded.
//! - [`attempts`]: how many log-ins and registrations an address or a nickname gets.
//! - [`registered`]: the names registered, in memory, on a process alone.

mod attempts;
pub mod password;
mod registered;

use crate::clock::now_millis;
use crate::identity::lookalike::{is_operators, is_operators_form, reserved_for_guests, same_name};
use crate::identity::{AddressKey, Identity, SessionId, SessionKeys};
use crate::store::{DynStore, Login, Standing, StoreError};
use app::names::Nickname;
use attempts::Attempts;
use password::{Busy, Hasher};
use registered::Registered;
use std::sync::Arc;
use std::time::Duration;

/// At most this much of what a client says it is (its User-Agent) is kept with its login.
const AGENT_CHARS: usize = 120;

#[derive(Debug, Clone)]
pub struct Accounts {
    store: DynStore,
    keys: SessionKeys,
    hasher: Hasher,
    attempts: Arc<Attempts>,
    registered: Arc<Registered>,
}

/// Why an account request was refused. The messages are what the person is shown: a wrong
/// password and an unknown nickname read the same.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("Not taken: {0}.")]
    BadPassword(String),
    #[error("Guest names (guest-…) and the operator's cannot be registered; choose another.")]
    Reserved,
    #[error("The nickname {0} is registered already; choose another.")]
    Registered(Nickname),
    #[error("{0} is not a bot.")]
    NotABot(Nickname),
    #[error("Wrong nickname or password.")]
    WrongCredentials,
    #[error("Too many attempts: try again in {} s.", .0.as_secs().max(1))]
    TooFast(Duration),
    #[error("The server is busy: try again in a moment.")]
    Busy,
    #[error("You are not logged in.")]
    NotLoggedIn,
    #[error("Storage is unavailable: try again later.")]
    Unavailable(#[source] StoreError),
}

impl From<Busy> for AccountError {
    fn from(_: Busy) -> Self {
        Self::Busy
    }
}

impl From<StoreError> for AccountError {
    fn from(err: StoreError) -> Self {
        tracing::error!(%err, "an account request could not reach the store");
        Self::Unavailable(err)
    }
}

/// Why a connection or a request may not use its nickname.
#[derive(Debug, thiserror::Error)]
pub enum NotAdmitted {
    #[error("the nickname {0} is registered: log in to use it")]
    Registered(Nickname),
    #[error("accounts are unavailable, try again later")]
    Unavailable,
    #[error("the nickname {0} is the operator's: choose another")]
    Operators(Nickname),
}

/// What a bot's account keeps where a person's keeps a password hash: no password matches it
/// (it is not a hash), so nobody logs in to a bot; it acts only by its keys.
pub const BOT: &str = "bot (no password)";

/// A session logged in to an account: its identity and the token that proves it.
#[derive(Debug, Clone)]
pub struct LoggedIn {
    pub identity: Identity,
    pub token: String,
}

impl Accounts {
    /// The accounts of `store`, with every name registered so far.
    pub async fn open(
        store: DynStore,
        keys: SessionKeys,
        limits: &crate::config::Limits,
    ) -> Result<Self, StoreError> {
        let registered = Arc::new(Registered::load(&store).await?);
        let attempts = Arc::new(Attempts::new(limits));
        Ok(Self { store, keys, hasher: Hasher::default(), attempts, registered })
    }

    /// With other nodes on the store: learns the names they register, every `every`. Runs
    /// until dropped.
    pub async fn keep_up(self, every: Duration) {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match self.store.recent_account_keys().await {
                Ok(keys) => keys.iter().for_each(|key| self.registered.add(key)),
                Err(err) => tracing::warn!(%err, "reading the nicknames registered lately failed"),
            }
        }
    }

    /// Whether `identity` may use its nickname: any session may use one nobody registered; a
    /// registered one only the sessions logged in to it. Returns who the identity is in the
    /// rooms: a guest is its session; every session of an account is the account's one
    /// person, so that a phone and a laptop are one member, not two people with one name.
    pub async fn admit(&self, identity: &Identity) -> Result<Identity, NotAdmitted> {
        let key = same_name(&identity.nickname);
        if is_operators_form(&key) {
            return Err(NotAdmitted::Operators(identity.nickname.clone()));
        }
        if !self.registered.may_be(&key) {
            return Ok(identity.clone());
        }
        match self.store.standing(&key, identity.session).await {
            Ok(Standing::Unregistered) => Ok(identity.clone()),
            Ok(Standing::Owner) => {
                Ok(Identity { session: self.keys.person(&key), nickname: identity.nickname.clone() })
            }
            Ok(Standing::Stranger) => Err(NotAdmitted::Registered(identity.nickname.clone())),
            Err(err) => {
                tracing::error!(%err, "checking a nickname's account failed");
                Err(NotAdmitted::Unavailable)
            }
        }
    }

    /// The key of the account `identity` acts for in the rooms (as [`Accounts::admit`] made
    /// it), if it is one: roles in rooms belong to accounts.
    pub fn acting_account(&self, identity: &Identity) -> Option<String> {
        let key = same_name(&identity.nickname);
        (self.keys.person(&key) == identity.session).then_some(key)
    }

    /// The account registered under `name`, if any: its key and the session that is it in the
    /// rooms.
    pub async fn registered(&self, name: &Nickname) -> Result<Option<(String, SessionId)>, StoreError> {
        let key = same_name(name);
        if !self.registered.may_be(&key) {
            return Ok(None);
        }
        Ok(self.store.account(&key).await?.map(|_| (key.clone(), self.keys.person(&key))))
    }

    /// Registers `nickname` with `password` and logs the new account in (a new session).
    pub async fn register(
        &self,
        nickname: Nickname,
        password: &str,
        address: AddressKey,
        agent: &str,
    ) -> Result<LoggedIn, AccountError> {
        if reserved_for_guests(&nickname) || is_operators(&nickname) {
            return Err(AccountError::Reserved);
        }
        password::check(password).map_err(AccountError::BadPassword)?;
        self.attempts.register(address).map_err(AccountError::TooFast)?;
        let key = same_name(&nickname);
        // Told before the hash is paid for; the insert below settles a race.
        if self.store.account(&key).await?.is_some() {
            return Err(AccountError::Registered(nickname));
        }
        let hash = self.hasher.hash(password).await?;
        if !self.store.create_account(&key, &nickname, &hash, now_millis()).await? {
            return Err(AccountError::Registered(nickname));
        }
        self.registered.add(&key);
        tracing::info!(%nickname, "nickname registered");
        self.start_login(&key, nickname, agent).await
    }

    /// A key for the bot `nickname`, registering the bot first if nobody registered the name:
    /// a session logged in to its account, whose token the bot sends as `Authorization:
    /// Bearer …` (or `?token=` on a WebSocket). A bot has no password: nobody logs in to it,
    /// and its keys end only when the operator revokes them. Refused for a person's account.
    pub async fn bot_key(&self, nickname: Nickname) -> Result<LoggedIn, AccountError> {
        if reserved_for_guests(&nickname) || is_operators(&nickname) {
            return Err(AccountError::Reserved);
        }
        let key = same_name(&nickname);
        let nickname = match self.store.account(&key).await? {
            Some(account) if account.password == BOT => account.nickname,
            Some(account) => return Err(AccountError::Registered(account.nickname)),
            None => {
                if !self.store.create_account(&key, &nickname, BOT, now_millis()).await? {
                    return Err(AccountError::Registered(nickname));
                }
                self.registered.add(&key);
                tracing::info!(%nickname, "bot registered");
                nickname
            }
        };
        self.start_login(&key, nickname, "API key").await
    }

    /// Ends every key of the bot `nickname`: returns the sessions ended, whose connections are
    /// to be closed.
    pub async fn revoke_bot(&self, nickname: &Nickname) -> Result<Vec<SessionId>, AccountError> {
        let key = same_name(nickname);
        match self.store.account(&key).await? {
            Some(account) if account.password == BOT => {}
            _ => return Err(AccountError::NotABot(nickname.clone())),
        }
        let mut ended = Vec::new();
        for login in self.store.logins(&key).await? {
            if self.store.end_login(&key, login.session).await? {
                ended.push(login.session);
            }
        }
        Ok(ended)
    }

    /// The bots, with how many keys each holds.
    pub async fn bots(&self) -> Result<Vec<(Nickname, usize)>, StoreError> {
        let mut bots = Vec::new();
        for key in self.store.account_keys().await? {
            if let Some(account) = self.store.account(&key).await? {
                if account.password == BOT {
                    bots.push((account.nickname, self.store.logins(&key).await?.len()));
                }
            }
        }
        Ok(bots)
    }

    /// Logs in to the account of `nickname` (a new session).
    pub async fn log_in(
        &self,
        nickname: &Nickname,
        password: &str,
        address: AddressKey,
        agent: &str,
    ) -> Result<LoggedIn, AccountError> {
        let key = same_name(nickname);
        self.attempts.log_in(address, &key).map_err(AccountError::TooFast)?;
        if password.len() > password::MAX_BYTES {
            return Err(AccountError::WrongCredentials);
        }
        let account = self.store.account(&key).await?;
        // A bot's account has no password: checked against the decoy, as for a name nobody
        // registered, so that neither the answer nor its time tells them apart.
        let hash = account.as_ref().map(|a| a.password.clone()).filter(|hash| hash != BOT);
        let right = self.hasher.verify(password, hash).await?;
        match account {
            Some(account) if right && account.password != BOT => {
                self.start_login(&key, account.nickname, agent).await
            }
            _ => Err(AccountError::WrongCredentials),
        }
    }

    async fn start_login(
        &self,
        key: &str,
        nickname: Nickname,
        agent: &str,
    ) -> Result<LoggedIn, AccountError> {
        // A fresh session: one chosen before logging in (a cookie someone else may have set)
        // never becomes the account's.
        let identity = Identity { session: SessionId::random(), nickname };
        let agent: String = agent.chars().filter(|c| !c.is_control()).take(AGENT_CHARS).collect();
        self.store.add_login(key, identity.session, now_millis(), &agent).await?;
        let token = self.keys.sign(&identity);
        Ok(LoggedIn { identity, token })
    }

    /// The account `identity` is logged in to, by its key: `None` for a guest, or a session
    /// logged out since.
    async fn account_of(&self, identity: &Identity) -> Result<String, AccountError> {
        let key = same_name(&identity.nickname);
        match self.store.standing(&key, identity.session).await? {
            Standing::Owner => Ok(key),
            Standing::Unregistered | Standing::Stranger => Err(AccountError::NotLoggedIn),
        }
    }

    /// Ends `identity`'s own login.
    pub async fn log_out(&self, identity: &Identity) -> Result<(), AccountError> {
        let key = self.account_of(identity).await?;
        self.store.end_login(&key, identity.session).await?;
        Ok(())
    }

    /// The sessions logged in to `identity`'s account, the newest first.
    pub async fn sessions(&self, identity: &Identity) -> Result<Vec<Login>, AccountError> {
        let key = self.account_of(identity).await?;
        Ok(self.store.logins(&key).await?)
    }

    /// Ends one of the sessions logged in to `identity`'s account; `false` if it has no such
    /// session.
    pub async fn end_session(&self, identity: &Identity, session: SessionId) -> Result<bool, AccountError> {
        let key = self.account_of(identity).await?;
        Ok(self.store.end_login(&key, session).await?)
    }

    /// Changes the password of `identity`'s account, given the current one; every other session
    /// logged in to it ends. Returns the sessions ended.
    pub async fn change_password(
        &self,
        identity: &Identity,
        current: &str,
        new: &str,
        address: AddressKey,
    ) -> Result<Vec<SessionId>, AccountError> {
        password::check(new).map_err(AccountError::BadPassword)?;
        let key = self.account_of(identity).await?;
        // Guessing the current password from a stolen session counts as logging in.
        self.attempts.log_in(address, &key).map_err(AccountError::TooFast)?;
        let account = self.store.account(&key).await?.ok_or(AccountError::NotLoggedIn)?;
        if account.password == BOT {
            return Err(AccountError::WrongCredentials);
        }
        if current.len() > password::MAX_BYTES || !self.hasher.verify(current, Some(account.password)).await?
        {
            return Err(AccountError::WrongCredentials);
        }
        let hash = self.hasher.hash(new).await?;
        let others: Vec<SessionId> = self
            .store
            .logins(&key)
            .await?
            .into_iter()
            .map(|login| login.session)
            .filter(|session| *session != identity.session)
            .collect();
        self.store.set_password(&key, &hash, identity.session).await?;
        Ok(others)
    }
}

//! The reader's session as the page sees it: the nickname the server bound it to, if any.
//! Provided as context by the app; components wait for the server's word with [`Session::resolve`]
//! inside a `Suspense`, so that the server's HTML and the hydrated page agree.

use leptos::prelude::*;

type WhoAmI = Resource<Result<Option<String>, ServerFnError>>;

#[derive(Debug, Clone, Copy)]
pub struct Session {
    /// Who the reader is now: set from the server's answer, then by choosing a nickname.
    pub nickname: RwSignal<Option<String>>,
    whoami: WhoAmI,
    resolved: StoredValue<bool>,
}

impl Session {
    /// The page's session, asked of the server once.
    pub fn provide() -> Self {
        let session = Self {
            nickname: RwSignal::new(None),
            whoami: Resource::new(|| (), |_| crate::api::whoami()),
            resolved: StoredValue::new(false),
        };
        provide_context(session);
        session
    }

    /// Waits until the server has said who the reader is.
    pub async fn resolve(self) -> Self {
        let me = self.whoami.await.ok().flatten();
        if !self.resolved.get_value() {
            self.resolved.set_value(true);
            // Untracked: this runs while rendering; everything that reads the nickname renders
            // after it.
            self.nickname.update_untracked(|n| *n = me);
        }
        self
    }
}

/// The page's session.
pub fn use_session() -> Session {
    use_context::<Session>().unwrap_or_else(Session::provide)
}

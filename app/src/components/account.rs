//! `/account`: registering a nickname, logging in and out, the sessions logged in to the
//! account (each can be ended from here), and changing the password. Every form works without
//! JavaScript: it posts to its server function and the page comes back with the result; with
//! JavaScript the page updates in place.

use crate::api::{
    self, url_error, AccountView, ChangePassword, EndSession, LogIn, LogOut, Register, SessionView,
};
use crate::names::Nickname;
use crate::session::use_session;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

/// What a form's last answer says: its error, from this page's action or (without
/// JavaScript) from the address the server sent the page back to.
fn hint<T, S>(value: S, from_url: Memo<Option<String>>) -> impl Fn() -> Option<String> + Copy
where
    S: Get<Value = Option<Result<T, ServerFnError>>> + Copy + 'static,
{
    move || match value.get() {
        Some(Err(err)) => Some(api::error_text(&err)),
        Some(Ok(_)) => None,
        None => from_url.get(),
    }
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let session = use_session();
    let register = ServerAction::<Register>::new();
    let log_in = ServerAction::<LogIn>::new();
    let log_out = ServerAction::<LogOut>::new();
    let end = ServerAction::<EndSession>::new();
    let password = ServerAction::<ChangePassword>::new();
    let versions = move || {
        (
            register.version().get(),
            log_in.version().get(),
            log_out.version().get(),
            end.version().get(),
            password.version().get(),
        )
    };
    let account = Resource::new(versions, |_| api::account());
    // The sidebar, and the rooms visited next, go by the new session.
    Effect::new(move |_| {
        for value in [register.value().get(), log_in.value().get()] {
            if let Some(Ok(name)) = value {
                session.nickname.set(Some(name));
            }
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = log_out.value().get() {
            session.nickname.set(None);
        }
    });
    view! {
        <Title text="Account · Chat"/>
        <main class="room account" id="main">
            <h1>"Account"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match account.await {
                        Ok(Some(view)) => view! { <LoggedIn view log_out end password/> }.into_any(),
                        _ => view! { <LoggedOut register log_in/> }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

/// A nickname and a password field, for logging in or registering.
#[component]
fn Credentials(
    prefix: &'static str,
    /// `current-password` or `new-password`, for password managers.
    password_autocomplete: &'static str,
) -> impl IntoView {
    let (name_id, password_id) = (format!("{prefix}-nickname"), format!("{prefix}-password"));
    view! {
        <label for=name_id.clone()>"Nickname"</label>
        <input
            id=name_id
            name="nickname"
            type="text"
            required
            autocomplete="username"
            autocapitalize="none"
            spellcheck="false"
            maxlength=Nickname::MAX_LEN
        />
        <label for=password_id.clone()>"Password"</label>
        <input id=password_id name="password" type="password" required autocomplete=password_autocomplete/>
    }
}

#[component]
fn LoggedOut(register: ServerAction<Register>, log_in: ServerAction<LogIn>) -> impl IntoView {
    let log_in_hint = hint(log_in.value(), url_error(LogIn::PATH));
    let register_hint = hint(register.value(), url_error(Register::PATH));
    view! {
        <section aria-labelledby="log-in-heading" class="account-form">
            <h2 id="log-in-heading">"Log in"</h2>
            <ActionForm action=log_in>
                <Credentials prefix="log-in" password_autocomplete="current-password"/>
                <button type="submit" disabled=move || log_in.pending().get()>"Log in"</button>
                <p class="hint" role="alert">{log_in_hint}</p>
            </ActionForm>
        </section>
        <section aria-labelledby="register-heading" class="account-form">
            <h2 id="register-heading">"Register a nickname"</h2>
            <p>
                "A registered nickname is yours in every room, on every device you log in from; "
                "nobody else can use it. A password has at least 8 characters."
            </p>
            <ActionForm action=register>
                <Credentials prefix="register" password_autocomplete="new-password"/>
                <button type="submit" disabled=move || register.pending().get()>"Register"</button>
                <p class="hint" role="alert">{register_hint}</p>
            </ActionForm>
        </section>
    }
}

#[component]
fn LoggedIn(
    view: AccountView,
    log_out: ServerAction<LogOut>,
    end: ServerAction<EndSession>,
    password: ServerAction<ChangePassword>,
) -> impl IntoView {
    let end_hint = hint(end.value(), url_error(EndSession::PATH));
    let password_hint = hint(password.value(), url_error(ChangePassword::PATH));
    let changed = move || matches!(password.value().get(), Some(Ok(())));
    let sessions = view.sessions.into_iter().map(|s| view! { <SessionRow session=s end/> }).collect_view();
    view! {
        <p class="logged-in">"Logged in as " <strong>{view.nickname}</strong></p>
        <ActionForm action=log_out>
            <button type="submit">"Log out"</button>
        </ActionForm>
        <section aria-labelledby="sessions-heading">
            <h2 id="sessions-heading">"Sessions"</h2>
            <ul class="sessions">{sessions}</ul>
            <p class="hint" role="alert">{end_hint}</p>
        </section>
        <section aria-labelledby="password-heading" class="account-form">
            <h2 id="password-heading">"Change the password"</h2>
            <p>"Every other session is logged out."</p>
            <ActionForm action=password>
                <label for="current-password">"Current password"</label>
                <input id="current-password" name="current" type="password" required autocomplete="current-password"/>
                <label for="new-password">"New password"</label>
                <input id="new-password" name="new" type="password" required autocomplete="new-password"/>
                <button type="submit" disabled=move || password.pending().get()>"Change"</button>
                <p class="hint" role="alert">
                    {move || if changed() { Some("Changed.".to_owned()) } else { password_hint() }}
                </p>
            </ActionForm>
        </section>
    }
}

#[component]
fn SessionRow(session: SessionView, end: ServerAction<EndSession>) -> impl IntoView {
    let agent =
        if session.agent.is_empty() { "Unknown browser or program".to_owned() } else { session.agent };
    // Every row has its button: each says whose session it ends.
    let label = format!("Log out the session of {agent}");
    let since = crate::timeline::utc_stamp(session.created_at);
    view! {
        <li class="session" data-current=session.current.then_some("")>
            <span class="agent">{agent}</span>
            <span class="since">{format!("since {since}")}</span>
            {if session.current {
                view! { <span class="this-one">"This session"</span> }.into_any()
            } else {
                view! {
                    <ActionForm action=end>
                        <input type="hidden" name="id" value=session.id/>
                        <button type="submit" aria-label=label>"Log out"</button>
                    </ActionForm>
                }
                .into_any()
            }}
        </li>
    }
}

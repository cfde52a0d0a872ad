//! One storage test suite, run against every implementation.

use super::{
    accounts::MAX_LOGINS, Alteration, Appended, Body, NewChange, NewMessage, Refusal, Standing, Store,
};
use crate::identity::SessionId;
use app::names::{ClientId, MessageText, Nickname, RoomName};
use app::reactions::{Emoji, ReactionRefusal, Reactions};

fn room(name: &str) -> RoomName {
    RoomName::parse(name).unwrap()
}

/// A message by `author`, whose session is named after them.
fn msg(room_name: &str, author: &str, text: &str, client_id: Option<&str>) -> NewMessage {
    NewMessage {
        room: room(room_name),
        author: Nickname::parse(author).unwrap(),
        session: SessionId::named(author),
        text: MessageText::parse(text).unwrap(),
        at: 1_700_000_000_000,
        client_id: client_id.map(|c| ClientId::parse(c).unwrap()),
        reply_to: None,
    }
}

fn seqs(appended: &[Appended]) -> Vec<u64> {
    appended.iter().map(|a| a.message().seq).collect()
}

pub async fn run_all(store: &dyn Store) {
    sequences_grow_per_room(store).await;
    duplicates_are_recognised(store).await;
    pages_of_history(store).await;
    rooms_by_activity(store).await;
    accounts_and_their_logins(store).await;
    logins_per_account_are_bounded(store).await;
    edits_and_deletions(store).await;
    reactions(store).await;
    rooms_run_by_people(store).await;
    retention_forgets_from_the_start(store).await;
    read_marks(store).await;
    search(store).await;
}

/// What a search finds, in every room or one, the newest first.
async fn found(store: &dyn Store, query: &str, room_name: Option<&str>) -> Vec<(String, u64)> {
    let terms = app::search::Terms::parse(query).unwrap();
    let found = store.search(&terms, room_name.map(room).as_ref(), 0, 50).await.unwrap();
    found.iter().map(|m| (m.room.to_string(), m.seq)).collect()
}

/// Search finds every word of a query, each as a word or the start of one, without case, in
/// what messages say now (edits and deletions alike), newest first, in one room or all; its
/// query language is words only.
async fn search(store: &dyn Store) {
    let at = |room_name: &str, text: &str, at: i64| NewMessage { at, ..msg(room_name, "ann", text, None) };
    store
        .append(&[
            at("sought-a", "Quokka deploy tonight", 1_000),
            at("sought-a", "the quokkas deployed fine", 2_000),
            at("sought-a", "nothing to see", 3_000),
            at("sought-b", "QUOKKA <b>deploy</b> café", 4_000),
            at("sought-b", "and or not near * \"quokka\"", 5_000),
        ])
        .await
        .unwrap();
    let (a, b) = (|seq| ("sought-a".to_owned(), seq), |seq| ("sought-b".to_owned(), seq));
    assert_eq!(found(store, "quokka", None).await, vec![b(2), b(1), a(2), a(1)]);
    assert_eq!(found(store, "QUOKKA", Some("sought-a")).await, vec![a(2), a(1)]);
    assert_eq!(found(store, "deploy quokka", None).await, vec![b(1), a(2), a(1)], "every word");
    assert_eq!(found(store, "quokka tonight", None).await, vec![a(1)]);
    assert_eq!(found(store, "okka", None).await, vec![], "the start of a word, not its middle");
    assert_eq!(found(store, "café", None).await, vec![b(1)]);
    assert_eq!(found(store, "and OR not NEAR", None).await, vec![b(2)], "words, not operators");
    assert_eq!(found(store, "quokka\" OR \"near", None).await, vec![b(2)], "quotes are not syntax");
    assert_eq!(found(store, "b", Some("sought-b")).await, vec![b(1)], "markup is text");
    assert_eq!(found(store, "quokka", Some("no-such-room")).await, vec![]);
    let terms = app::search::Terms::parse("quokka").unwrap();
    let page: Vec<u64> = store.search(&terms, None, 1, 2).await.unwrap().iter().map(|m| m.seq).collect();
    assert_eq!(page, vec![1, 2], "a page from an offset");
    // Edits and deletions change what is found.
    let alter =
        |target, alteration| NewChange { room: room("sought-a"), ..change("ann", target, alteration, false) };
    store.change(&alter(1, edit("a wombat now"))).await.unwrap().unwrap();
    assert_eq!(found(store, "quokka", Some("sought-a")).await, vec![a(2)]);
    assert_eq!(found(store, "wombat", None).await, vec![a(1)]);
    store.change(&alter(2, Alteration::Delete)).await.unwrap().unwrap();
    assert_eq!(found(store, "quokka", Some("sought-a")).await, vec![]);
    assert_eq!(found(store, "quokkas", None).await, vec![], "a deletion takes its words out");
    // A reaction changes nothing of it.
    let react = alter(1, Alteration::React { emoji: Emoji::ThumbsUp, on: true });
    store.change(&react).await.unwrap().unwrap();
    assert_eq!(found(store, "wombat", None).await, vec![a(1)]);
    // Nor do edits of edits: what an edit entry says is not a message of its own.
    assert_eq!(found(store, "now", Some("sought-a")).await, vec![a(1)]);
    // Retention forgets the words with the message.
    assert_eq!(store.forget_before(&room("sought-a"), 1_500, 100).await.unwrap(), 1);
    assert_eq!(found(store, "wombat", None).await, vec![]);
}

/// A person's read mark in a room moves forward only, never past the room's last entry, and is
/// theirs alone; a room without a log takes none.
async fn read_marks(store: &dyn Store) {
    let (ann, bob) = (SessionId::named("reader-ann"), SessionId::named("reader-bob"));
    let r = room("marked");
    let batch: Vec<_> = (1..=3).map(|i| msg("marked", "cid", &format!("m{i}"), None)).collect();
    store.append(&batch).await.unwrap();
    assert_eq!(store.read_mark(ann, &r).await.unwrap(), None);
    assert_eq!(store.mark_read(ann, &r, 2, 10).await.unwrap(), Some(2));
    assert_eq!(store.mark_read(ann, &r, 1, 11).await.unwrap(), None, "never back");
    assert_eq!(store.mark_read(ann, &r, 2, 11).await.unwrap(), None, "moved nothing");
    assert_eq!(store.mark_read(ann, &r, 99, 12).await.unwrap(), Some(3), "never past the end");
    assert_eq!(store.mark_read(ann, &r, 100, 12).await.unwrap(), None);
    assert_eq!(store.read_mark(ann, &r).await.unwrap(), Some(3));
    assert_eq!(store.read_mark(bob, &r).await.unwrap(), None, "ann's alone");
    assert_eq!(store.mark_read(bob, &room("no-log-here"), 5, 13).await.unwrap(), None);
    assert_eq!(store.read_mark(bob, &room("no-log-here")).await.unwrap(), None);
    store.append(&[msg("runs", "cid", "hello", None)]).await.unwrap();
    store.mark_read(ann, &room("runs"), 1, 14).await.unwrap();
    let marks = store.read_marks(ann).await.unwrap();
    assert!(
        marks.contains(&(r.clone(), 3)) && marks.iter().any(|(room, _)| room.as_str() == "runs"),
        "{marks:?}"
    );
    assert!(store.read_marks(bob).await.unwrap().is_empty());
}

/// A message of `text` written at `at`.
fn msg_at(room_name: &str, text: &str, at: i64) -> NewMessage {
    NewMessage { at, ..msg(room_name, "ann", text, None) }
}

/// Retention forgets a room's oldest messages and edits, a batch at a time, and moves the
/// horizon past them; actions stay (the audit); rooms list with their owners' retention.
async fn retention_forgets_from_the_start(store: &dyn Store) {
    let r = room("fading");
    let batch: Vec<_> = (1..=5).map(|i| msg_at("fading", &format!("m{i}"), i * 1000)).collect();
    store.append(&batch).await.unwrap();
    let deletion = NewChange {
        room: r.clone(),
        by: Nickname::parse("ann").unwrap(),
        session: SessionId::named("ann"),
        moderator: false,
        target: 1,
        alteration: Alteration::Delete,
        at: 1500,
    };
    store.change(&deletion).await.unwrap().unwrap();
    assert_eq!(store.forget_before(&r, 0, 100).await.unwrap(), 0, "nothing that old");
    assert_eq!(store.position(&r).await.unwrap().horizon, 0);
    assert_eq!(store.forget_before(&r, 2500, 100).await.unwrap(), 2);
    let position = store.position(&r).await.unwrap();
    assert_eq!((position.seq, position.horizon), (6, 2));
    let left: Vec<_> = store.read_after(&r, 0, 100).await.unwrap().iter().map(|m| m.seq).collect();
    assert_eq!(left, vec![3, 4, 5, 6], "the deletion (an action) stays");
    assert_eq!(store.forget_before(&r, 2500, 100).await.unwrap(), 0, "done already");
    assert_eq!(store.forget_before(&r, 10_000, 1).await.unwrap(), 1, "a batch at a time");
    assert_eq!(store.position(&r).await.unwrap().horizon, 3);
    assert_eq!(store.forget_before(&r, 4500, 100).await.unwrap(), 1);
    assert_eq!(store.position(&r).await.unwrap().horizon, 4);
    assert_eq!(store.read_before(&r, None, 10).await.unwrap().len(), 1, "m5 is what history has");
    assert_eq!(store.forget_before(&room("nowhere"), 10_000, 10).await.unwrap(), 0);

    let kept = store.rooms_kept("", 1000).await.unwrap();
    assert!(kept.iter().any(|k| k.room == r && k.days.is_none()), "{kept:?}");
    let runs = kept.iter().find(|k| k.room == room("runs")).expect("a room with rules");
    assert_eq!(runs.days, Some(30), "its owner's");
    let after = store.rooms_kept("fading", 1000).await.unwrap();
    assert!(after.iter().all(|k| k.room.as_str() > "fading") && !after.is_empty());
}

/// A room exported from `from` and imported into `to` reads back the same, position and rules
/// included; a room with a log is not imported into.
pub async fn a_room_moves_between_logs(from: &dyn Store, to: &dyn Store) {
    use super::transfer;
    let r = room("moving");
    from.append(&[msg("moving", "ann", "one", Some("c1")), msg("moving", "bob", "two", None)]).await.unwrap();
    let edit = NewChange {
        room: r.clone(),
        by: Nickname::parse("ann").unwrap(),
        session: SessionId::named("ann"),
        moderator: false,
        target: 1,
        alteration: Alteration::Edit(MessageText::parse("one, edited").unwrap()),
        at: 1_700_000_000_500,
    };
    from.change(&edit).await.unwrap().unwrap();
    let reaction = NewChange {
        alteration: Alteration::React { emoji: Emoji::Heart, on: true },
        by: Nickname::parse("bob").unwrap(),
        session: SessionId::named("bob"),
        ..edit.clone()
    };
    from.change(&reaction).await.unwrap().unwrap();
    let delete = NewChange {
        target: 2,
        alteration: Alteration::Delete,
        by: Nickname::parse("bob").unwrap(),
        session: SessionId::named("bob"),
        ..edit.clone()
    };
    from.change(&delete).await.unwrap().unwrap();
    from.append(&[msg_at("moving", "three", 1_700_000_001_000)]).await.unwrap();
    let mut file = Vec::new();
    assert_eq!(transfer::export(from, &r, &mut file).await.unwrap(), 6);
    let (into, count) = transfer::import(to, file.as_slice(), None).await.unwrap();
    assert_eq!((into, count), (r.clone(), 6));
    assert_eq!(to.position(&r).await.unwrap(), from.position(&r).await.unwrap());
    assert_eq!(to.read_after(&r, 0, 100).await.unwrap(), from.read_after(&r, 0, 100).await.unwrap());
    assert_eq!(to.read_before(&r, None, 100).await.unwrap(), from.read_before(&r, None, 100).await.unwrap());
    let err = transfer::import(to, file.as_slice(), None).await.unwrap_err();
    assert!(err.to_string().contains("has a log already"), "{err}");
    // Under another name, as another room; the log goes on after it.
    let (copy, _) = transfer::import(to, file.as_slice(), Some(room("moved"))).await.unwrap();
    let appended = to.append(&[msg("moved", "ann", "four", None)]).await.unwrap();
    assert_eq!(appended[0].message().seq, 7);
    assert_eq!(to.read_after(&copy, 0, 100).await.unwrap().len(), 7);
    let history = to.read_before(&copy, None, 100).await.unwrap();
    assert!(
        matches!(history.first().map(|m| &m.body), Some(Body::Text { reactions, .. }) if reactions.count() == 1),
        "a message moves with its reactions: {history:?}"
    );
    // A damaged export is refused at its first bad line.
    let text = String::from_utf8(file).unwrap();
    let damaged = text.replacen("\"seq\":3", "\"seq\":1", 1);
    let err = transfer::import(to, damaged.as_bytes(), Some(room("damaged"))).await.unwrap_err();
    assert!(err.to_string().starts_with("line 4:"), "{err}");
    assert!(transfer::import(to, &b"{}"[..], None).await.is_err());
}

fn person(name: &str, account: bool) -> super::Person {
    super::Person {
        name: Nickname::parse(name).unwrap(),
        account: account.then(|| name.to_owned()),
        session: SessionId::named(name),
        addresses: vec!["ffffffff7f000001".parse().unwrap()],
    }
}

fn action(by: &str, action: app::protocol::Action, target: Option<super::Person>) -> super::NewModeration {
    super::NewModeration {
        room: room("runs"),
        by: Nickname::parse(by).unwrap(),
        by_session: SessionId::named(by),
        by_account: Some(by.to_owned()),
        operator: false,
        action,
        target,
        // Now: the store reads back the sanctions in force now.
        at: crate::clock::now_millis(),
    }
}

/// A room is claimed once; roles, settings and sanctions are kept and read back; each action is
/// an entry of the log; refusals change nothing.
async fn rooms_run_by_people(store: &dyn Store) {
    use app::protocol::{Action, Role};
    let r = room("runs");
    let nick = |n: &str| Nickname::parse(n).unwrap();
    let claim =
        |by: &str| action(by, Action::Role { name: nick(by), role: Role::Owner }, Some(person(by, true)));
    let created = store.moderate(&claim("olga")).await.unwrap().unwrap();
    assert_eq!(created.seq, 1, "the claim creates the room's log");
    assert_eq!(store.moderate(&claim("mallory")).await.unwrap(), Err(super::ModerationRefusal::Taken));
    let made = Action::Role { name: nick("mo"), role: Role::Moderator };
    store.moderate(&action("olga", made.clone(), Some(person("mo", true)))).await.unwrap().unwrap();
    assert_eq!(
        store.moderate(&action("mo", made, Some(person("mo", true)))).await.unwrap(),
        Err(super::ModerationRefusal::NotOwner)
    );
    store.moderate(&action("mo", Action::Topic { text: "be nice".into() }, None)).await.unwrap().unwrap();
    assert_eq!(
        store.moderate(&action("mo", Action::Retention { days: 30 }, None)).await.unwrap(),
        Err(super::ModerationRefusal::NotOwner),
        "retention is the owner's"
    );
    store.moderate(&action("olga", Action::Retention { days: 30 }, None)).await.unwrap().unwrap();
    assert_eq!(store.room_state(&r).await.unwrap().rules.retention_days, 30);
    store.moderate(&action("mo", Action::SlowMode { seconds: 5 }, None)).await.unwrap().unwrap();
    let ban = Action::Ban { name: nick("gus"), seconds: None, reason: "spam".into() };
    store.moderate(&action("mo", ban, Some(person("gus", false)))).await.unwrap().unwrap();
    let timeout = Action::Timeout { name: nick("tim"), seconds: 60, reason: String::new() };
    store.moderate(&action("mo", timeout, Some(person("tim", false)))).await.unwrap().unwrap();

    let state = store.room_state(&r).await.unwrap();
    assert_eq!(state.rules.owner, Some(nick("olga")));
    assert_eq!(state.rules.moderators, vec![nick("mo")]);
    assert_eq!((state.rules.topic.as_str(), state.rules.slow_mode), ("be nice", 5));
    assert_eq!(state.sanctions.len(), 3, "the ban by session and address, the timeout by session: {state:?}");
    let gus = [super::Subject::Session(SessionId::named("gus"))];
    assert!(state
        .sanction(super::SanctionKind::Ban, &gus, crate::clock::now_millis())
        .is_some_and(|b| b.until.is_none()));

    store.moderate(&action("mo", Action::Pardon { name: nick("GUS") }, None)).await.unwrap().unwrap();
    let handover = Action::Role { name: nick("mo"), role: Role::Owner };
    store.moderate(&action("olga", handover, Some(person("mo", true)))).await.unwrap().unwrap();
    let listed = store.active_rooms(1000).await.unwrap().into_iter().find(|a| a.name == r);
    assert_eq!(listed.map(|a| a.topic).as_deref(), Some("be nice"), "the room list has the topic");
    let state = store.room_state(&r).await.unwrap();
    assert_eq!(state.sanctions.len(), 1, "the pardon lifted the ban: {state:?}");
    assert_eq!((state.rules.owner, state.rules.moderators), (Some(nick("mo")), vec![nick("olga")]));
    let log = store.read_after(&r, 0, 100).await.unwrap();
    assert_eq!(log.len(), 9, "each action an entry, refusals none");
    assert!(
        matches!(&log[0].body, super::Body::Moderation(record) if record.action == Action::Role { name: nick("olga"), role: Role::Owner })
    );
    assert!(store.read_before(&r, None, 10).await.unwrap().is_empty(), "history holds messages only");
    let newest = store.read_actions(&r, None, 3).await.unwrap();
    assert_eq!(newest.iter().map(|m| m.seq).collect::<Vec<_>>(), [9, 8, 7], "the audit, newest first");
    let older = store.read_actions(&r, Some(7), 100).await.unwrap();
    assert_eq!(older.iter().map(|m| m.seq).collect::<Vec<_>>(), [6, 5, 4, 3, 2, 1], "and page by page");
}

/// Reactions are numbered in the log like edits, toggled per person and emoji, held by their
/// message in history, kept out of the audit, and forgotten with their message by retention.
async fn reactions(store: &dyn Store) {
    let r = room("reacting");
    store.append(&[msg("reacting", "ann", "react to me", None)]).await.unwrap();
    let react = |by: &str, emoji, on| NewChange {
        room: r.clone(),
        ..change(by, 1, Alteration::React { emoji, on }, false)
    };
    let first = store.change(&react("bob", Emoji::ThumbsUp, true)).await.unwrap().unwrap();
    assert_eq!(
        (first.seq, first.author.as_str(), first.body.clone()),
        (2, "bob", Body::React { target: 1, emoji: Emoji::ThumbsUp, on: true })
    );
    assert_eq!(
        store.change(&react("bob", Emoji::ThumbsUp, true)).await.unwrap(),
        Err(Refusal::Reaction(ReactionRefusal::Unchanged)),
        "twice is once"
    );
    store.change(&react("ann", Emoji::ThumbsUp, true)).await.unwrap().unwrap();
    store.change(&react("cy", Emoji::Party, true)).await.unwrap().unwrap();
    store.change(&react("bob", Emoji::ThumbsUp, false)).await.unwrap().unwrap();
    assert_eq!(store.position(&r).await.unwrap().seq, 5, "a refusal takes no number");
    assert_eq!(
        store.change(&NewChange { target: 4, ..react("ann", Emoji::Sad, true) }).await.unwrap(),
        Err(Refusal::NotFound),
        "reactions are on messages, not on reactions"
    );

    let history = store.read_before(&r, None, 10).await.unwrap();
    let Some(Body::Text { reactions, .. }) = history.first().map(|m| &m.body) else {
        panic!("expected the message, got {history:?}")
    };
    assert_eq!(
        serde_json::to_string(reactions).unwrap(),
        r#"[{"emoji":"👍","by":["ann"]},{"emoji":"🎉","by":["cy"]}]"#
    );
    assert_eq!(history.len(), 1, "history holds the message, not its reactions");
    let log: Vec<_> = store.read_after(&r, 1, 10).await.unwrap().into_iter().map(|m| m.body).collect();
    assert_eq!(
        log.last(),
        Some(&Body::React { target: 1, emoji: Emoji::ThumbsUp, on: false }),
        "a client that resumes learns every one"
    );
    assert!(store.read_actions(&r, None, 10).await.unwrap().is_empty(), "reactions are not audited");
    assert_eq!(store.forget_before(&r, i64::MAX, 100).await.unwrap(), 5, "forgotten with their message");
    assert!(store.read_after(&r, 0, 10).await.unwrap().is_empty());
}

fn change(by: &str, target: u64, alteration: Alteration, moderator: bool) -> NewChange {
    NewChange {
        room: room("changes"),
        by: Nickname::parse(by).unwrap(),
        session: SessionId::named(by),
        target,
        alteration,
        moderator,
        at: 1_700_000_000_500,
    }
}

fn edit(text: &str) -> Alteration {
    Alteration::Edit(MessageText::parse(text).unwrap())
}

/// Edits and deletions are numbered in the log like messages; the message they change reads as
/// it is now in history; the rules of who may change what hold; a deletion takes the text of the
/// message and of its edits out of the log.
async fn edits_and_deletions(store: &dyn Store) {
    let r = room("changes");
    store
        .append(&[
            msg("changes", "ann", "first", None),
            msg("changes", "bob", "second", None),
            msg("changes", "ann", "third", None),
        ])
        .await
        .unwrap();
    let edited = store.change(&change("ann", 1, edit("first, fixed"), false)).await.unwrap().unwrap();
    assert_eq!((edited.seq, edited.author.as_str()), (4, "ann"));
    assert_eq!(
        edited.body,
        Body::Edit { target: 1, text: Some(MessageText::parse("first, fixed").unwrap()) }
    );
    assert_eq!(
        store.change(&change("ann", 2, edit("not mine"), false)).await.unwrap(),
        Err(Refusal::NotYoursToEdit)
    );
    assert_eq!(
        store.change(&change("ann", 2, edit("still not"), true)).await.unwrap(),
        Err(Refusal::NotYoursToEdit)
    );
    assert_eq!(
        store.change(&change("ann", 2, Alteration::Delete, false)).await.unwrap(),
        Err(Refusal::NotYoursToDelete)
    );
    assert_eq!(
        store.change(&change("ann", 99, Alteration::Delete, false)).await.unwrap(),
        Err(Refusal::NotFound)
    );
    assert_eq!(
        store.change(&change("ann", 4, edit("an edit"), false)).await.unwrap(),
        Err(Refusal::NotFound)
    );
    assert_eq!(store.position(&r).await.unwrap().seq, 4, "a refusal takes no number");
    let deleted = store.change(&change("mod", 2, Alteration::Delete, true)).await.unwrap().unwrap();
    assert_eq!((deleted.seq, deleted.body.clone()), (5, Body::Delete { target: 2 }));
    store.change(&change("ann", 3, edit("third, fixed"), false)).await.unwrap().unwrap();
    store.change(&change("ann", 3, Alteration::Delete, false)).await.unwrap().unwrap();
    assert_eq!(
        store.change(&change("ann", 3, Alteration::Delete, false)).await.unwrap(),
        Err(Refusal::NotFound)
    );

    let history = store.read_before(&r, None, 10).await.unwrap();
    let bodies: Vec<_> = history.iter().map(|m| (m.seq, m.body.clone())).collect();
    assert_eq!(
        bodies,
        vec![
            (
                1,
                Body::Text {
                    text: MessageText::parse("first, fixed").unwrap(),
                    edited: Some(1_700_000_000_500),
                    reactions: Reactions::default(),
                    reply: None,
                }
            ),
            (2, Body::Deleted),
            (3, Body::Deleted),
        ],
        "history holds messages as they are now, and no changes"
    );
    let log: Vec<_> =
        store.read_after(&r, 3, 10).await.unwrap().into_iter().map(|m| (m.seq, m.body)).collect();
    assert_eq!(
        log,
        vec![
            (4, Body::Edit { target: 1, text: Some(MessageText::parse("first, fixed").unwrap()) }),
            (5, Body::Delete { target: 2 }),
            (6, Body::Edit { target: 3, text: None }),
            (7, Body::Delete { target: 3 }),
        ],
        "resume carries the changes; an edit of a deleted message lost its text"
    );
    let page = store.read_before(&r, Some(3), 1).await.unwrap();
    assert_eq!(page.iter().map(|m| m.seq).collect::<Vec<_>>(), [2], "a page counts messages only");
    let audit: Vec<_> =
        store.read_actions(&r, None, 10).await.unwrap().into_iter().map(|m| (m.seq, m.body)).collect();
    assert_eq!(
        audit,
        vec![(7, Body::Delete { target: 3 }), (5, Body::Delete { target: 2 })],
        "the audit holds the deletions, newest first, and no messages or edits"
    );
    let nick = |n: &str| Nickname::parse(n).unwrap();
    assert_eq!(store.recent_session_of(&r, &nick("BOB"), 100).await.unwrap(), Some(SessionId::named("bob")));
    assert_eq!(store.recent_session_of(&r, &nick("bob"), 1).await.unwrap(), None, "only so far back");
    assert_eq!(store.recent_session_of(&r, &nick("mod"), 100).await.unwrap(), None, "messages only");
}

async fn accounts_and_their_logins(store: &dyn Store) {
    let ann = Nickname::parse("Ann").unwrap();
    let (laptop, phone, stranger) =
        (SessionId::named("laptop"), SessionId::named("phone"), SessionId::named("x"));
    assert_eq!(store.standing("ann", laptop).await.unwrap(), Standing::Unregistered);
    assert!(store.create_account("ann", &ann, "hash-1", 1).await.unwrap());
    assert!(
        !store.create_account("ann", &Nickname::parse("ann").unwrap(), "hash-2", 2).await.unwrap(),
        "one owner"
    );
    let account = store.account("ann").await.unwrap().unwrap();
    assert_eq!((account.nickname.as_str(), account.password.as_str()), ("Ann", "hash-1"), "the first kept");
    assert_eq!(store.account("bob").await.unwrap(), None);
    assert!(store.account_keys().await.unwrap().contains(&"ann".to_owned()));
    assert!(store
        .create_account("new", &Nickname::parse("new").unwrap(), "h", crate::clock::now_millis())
        .await
        .unwrap());
    assert!(store.recent_account_keys().await.unwrap().contains(&"new".to_owned()));
    assert_eq!(store.standing("ann", laptop).await.unwrap(), Standing::Stranger);

    store.add_login("ann", laptop, 10, "Firefox").await.unwrap();
    store.add_login("ann", phone, 20, "Chromium").await.unwrap();
    assert_eq!(store.standing("ann", laptop).await.unwrap(), Standing::Owner);
    assert_eq!(store.standing("ann", stranger).await.unwrap(), Standing::Stranger);
    let logins = store.logins("ann").await.unwrap();
    assert_eq!(
        logins.iter().map(|l| (l.session, l.agent.as_str())).collect::<Vec<_>>(),
        vec![(phone, "Chromium"), (laptop, "Firefox")]
    );

    assert!(store.end_login("ann", phone).await.unwrap());
    assert!(!store.end_login("ann", phone).await.unwrap(), "ended once");
    assert!(!store.end_login("bob", laptop).await.unwrap(), "only the account's own sessions");
    assert_eq!(store.standing("ann", phone).await.unwrap(), Standing::Stranger);

    store.add_login("ann", phone, 30, "Chromium").await.unwrap();
    store.set_password("ann", "hash-3", laptop).await.unwrap();
    assert_eq!(store.account("ann").await.unwrap().unwrap().password, "hash-3");
    assert_eq!(
        store.standing("ann", laptop).await.unwrap(),
        Standing::Owner,
        "the session that changed it stays"
    );
    assert_eq!(store.standing("ann", phone).await.unwrap(), Standing::Stranger, "every other one ends");
}

async fn logins_per_account_are_bounded(store: &dyn Store) {
    let cy = Nickname::parse("cy").unwrap();
    assert!(store.create_account("cy", &cy, "hash", 1).await.unwrap());
    let count = usize::try_from(MAX_LOGINS).unwrap() + 5;
    for n in 0..count {
        store
            .add_login("cy", SessionId::named(&format!("cy-{n}")), i64::try_from(n).unwrap(), "")
            .await
            .unwrap();
    }
    let logins = store.logins("cy").await.unwrap();
    assert_eq!(logins.len(), usize::try_from(MAX_LOGINS).unwrap());
    assert_eq!(
        store.standing("cy", SessionId::named("cy-0")).await.unwrap(),
        Standing::Stranger,
        "the oldest ended"
    );
    assert_eq!(
        store.standing("cy", SessionId::named(&format!("cy-{}", count - 1))).await.unwrap(),
        Standing::Owner
    );
}

async fn rooms_by_activity(store: &dyn Store) {
    let at = |room_name: &str, at| NewMessage { at, ..msg(room_name, "ann", "x", None) };
    store.append(&[at("quiet", 1_800_000_000_000), at("busy", 1_800_000_000_001)]).await.unwrap();
    let active: Vec<_> =
        store.active_rooms(2).await.unwrap().into_iter().map(|r| (r.name, r.last_at, r.topic)).collect();
    assert_eq!(
        active,
        vec![
            (room("busy"), 1_800_000_000_001, String::new()),
            (room("quiet"), 1_800_000_000_000, String::new())
        ]
    );
    assert!(store.active_rooms(100).await.unwrap().len() > 2, "the other rooms follow");
}

async fn sequences_grow_per_room(store: &dyn Store) {
    let empty = store.position(&room("nowhere")).await.unwrap();
    assert_eq!((empty.epoch, empty.seq), (0, 0));

    let first = store
        .append(&[msg("a", "ann", "one", None), msg("b", "bob", "uno", None), msg("a", "ann", "two", None)])
        .await
        .unwrap();
    assert_eq!(seqs(&first), vec![1, 1, 2]);
    assert!(first.iter().all(|a| matches!(a, Appended::New(_))));
    let epoch_a = first[0].message().epoch;
    assert_ne!(epoch_a, 0);
    assert_eq!(first[2].message().epoch, epoch_a, "one epoch per room");

    let second = store.append(&[msg("a", "ann", "three", None)]).await.unwrap();
    assert_eq!(seqs(&second), vec![3]);
    assert_eq!(second[0].message().epoch, epoch_a);
    let position = store.position(&room("a")).await.unwrap();
    assert_eq!((position.epoch, position.seq), (epoch_a, 3));
    assert_eq!(store.append(&[]).await.unwrap(), vec![]);
}

async fn duplicates_are_recognised(store: &dyn Store) {
    let first = store.append(&[msg("d", "ann", "hello", Some("c1"))]).await.unwrap();
    assert!(matches!(&first[0], Appended::New(m) if m.seq == 1));

    // A resend (same session, same client id) returns the original; a second in the same batch
    // too.
    let again = store
        .append(&[
            msg("d", "ann", "hello", Some("c1")),
            msg("d", "ann", "next", Some("c2")),
            msg("d", "ann", "next", Some("c2")),
        ])
        .await
        .unwrap();
    assert!(matches!(&again[0], Appended::Duplicate(m) if m.seq == 1 && m.text_str() == "hello"));
    assert!(matches!(&again[1], Appended::New(m) if m.seq == 2));
    assert!(matches!(&again[2], Appended::Duplicate(m) if m.seq == 2));

    // Client ids belong to their session: someone else's "c1" is a different message...
    let other = store.append(&[msg("d", "bob", "mine", Some("c1"))]).await.unwrap();
    assert!(matches!(&other[0], Appended::New(m) if m.seq == 3));
    // ...even under the same nickname (a freed name, a new session), in the same batch or not.
    let same_name =
        |text| NewMessage { session: SessionId::named("another ann"), ..msg("d", "ann", text, Some("c1")) };
    let impostor =
        store.append(&[same_name("not a resend"), msg("d", "ann", "hello", Some("c1"))]).await.unwrap();
    assert!(matches!(&impostor[0], Appended::New(m) if m.seq == 4 && m.text_str() == "not a resend"));
    assert!(matches!(&impostor[1], Appended::Duplicate(m) if m.seq == 1));
    let again = store.append(&[same_name("resent")]).await.unwrap();
    assert!(matches!(&again[0], Appended::Duplicate(m) if m.seq == 4), "its own resend is recognised");
    let all = store.read_after(&room("d"), 0, 100).await.unwrap();
    assert_eq!(all.len(), 4, "nothing stored twice");
    assert_eq!(all[0].client_id.as_ref().map(ClientId::as_str), Some("c1"));
}

async fn pages_of_history(store: &dyn Store) {
    let batch: Vec<_> = (1..=25).map(|i| msg("h", "ann", &format!("m{i}"), None)).collect();
    store.append(&batch).await.unwrap();
    let texts =
        |page: &[super::StoredMessage]| page.iter().map(|m| m.text_str().to_string()).collect::<Vec<_>>();

    let after = store.read_after(&room("h"), 20, 100).await.unwrap();
    assert_eq!(texts(&after), vec!["m21", "m22", "m23", "m24", "m25"]);
    let limited = store.read_after(&room("h"), 0, 3).await.unwrap();
    assert_eq!(texts(&limited), vec!["m1", "m2", "m3"]);

    let latest = store.read_before(&room("h"), None, 4).await.unwrap();
    assert_eq!(texts(&latest), vec!["m22", "m23", "m24", "m25"]);
    let older = store.read_before(&room("h"), Some(22), 4).await.unwrap();
    assert_eq!(texts(&older), vec!["m18", "m19", "m20", "m21"]);
    let oldest = store.read_before(&room("h"), Some(3), 10).await.unwrap();
    assert_eq!(texts(&oldest), vec!["m1", "m2"]);
    assert!(store.read_after(&room("h"), 25, 10).await.unwrap().is_empty());
    assert!(store.read_before(&room("empty"), None, 10).await.unwrap().is_empty());
}

pub async fn survives_reopen_before(store: &dyn Store) {
    store.append(&[msg("r", "ann", "kept", Some("k1"))]).await.unwrap();
}

pub async fn survives_reopen_after(store: &dyn Store) {
    let kept = store.read_after(&room("r"), 0, 10).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].text_str(), "kept");
    let again =
        store.append(&[msg("r", "ann", "kept", Some("k1")), msg("r", "ann", "new", None)]).await.unwrap();
    assert!(matches!(&again[0], Appended::Duplicate(m) if m.seq == 1));
    assert!(matches!(&again[1], Appended::New(m) if m.seq == 2 && m.epoch == kept[0].epoch));
}

/// Two stores on one database (two server processes) append to one room at once: every message
/// gets its own number, with no gap.
pub async fn concurrent_writers(first: &dyn Store, second: &dyn Store) {
    async fn write(tag: &str, store: &dyn Store) {
        for b in 0..20 {
            let batch: Vec<_> =
                (0..5).map(|i| msg("shared", "ann", &format!("{tag}-{b}-{i}"), None)).collect();
            store.append(&batch).await.unwrap();
        }
    }
    tokio::join!(write("one", first), write("two", second));
    let all = first.read_after(&room("shared"), 0, 1000).await.unwrap();
    assert_eq!(all.len(), 200);
    assert!(all.iter().enumerate().all(|(i, m)| m.seq == i as u64 + 1), "numbers 1..=200 without gaps");
}

/// The room `damaged` with five messages; the backend's test then damages rows 2 and 5 behind
/// the store's back (a bad author, a blank text) and calls [`reads_go_on_past_damaged_rows`].
pub async fn before_damage(store: &dyn Store) {
    let batch: Vec<_> =
        (1..=5).map(|i| msg("damaged", "ann", &format!("m{i}"), Some(&format!("d{i}")))).collect();
    store.append(&batch).await.unwrap();
}

/// The SQL that damages rows 2 and 5 of [`before_damage`]'s room (the same in both dialects).
pub const DAMAGE: [&str; 2] = [
    "UPDATE messages SET author = 'not a nickname' WHERE room = 'damaged' AND seq = 2",
    "UPDATE messages SET text = '   ' WHERE room = 'damaged' AND seq = 5",
];

/// Reading goes on past damaged rows, and pages are filled from beyond them.
pub async fn reads_go_on_past_damaged_rows(store: &dyn Store) {
    let texts =
        |page: Vec<super::StoredMessage>| page.iter().map(|m| m.text_str().to_string()).collect::<Vec<_>>();
    let damaged = room("damaged");
    assert_eq!(texts(store.read_after(&damaged, 0, 10).await.unwrap()), ["m1", "m3", "m4"]);
    assert_eq!(texts(store.read_after(&damaged, 0, 2).await.unwrap()), ["m1", "m3"]);
    assert_eq!(texts(store.read_after(&damaged, 1, 1).await.unwrap()), ["m3"]);
    assert_eq!(texts(store.read_before(&damaged, None, 2).await.unwrap()), ["m3", "m4"]);
    assert_eq!(texts(store.read_before(&damaged, None, 10).await.unwrap()), ["m1", "m3", "m4"]);
    assert_eq!(texts(store.read_before(&damaged, Some(4), 2).await.unwrap()), ["m1", "m3"]);
    // A resend of a damaged message still gets its number.
    let again = store.append(&[msg("damaged", "ann", "m2", Some("d2"))]).await.unwrap();
    assert!(matches!(&again[0], Appended::Duplicate(m) if m.seq == 2));
    // The log goes on.
    let next = store.append(&[msg("damaged", "ann", "m6", None)]).await.unwrap();
    assert_eq!(seqs(&next), vec![6]);
}

//! The statements of edits, deletions and moderation, written once for both databases: their
//! SQL is the same (SQLite reads `$n` too), only the connection's type differs, so a macro
//! makes each store's copy. Appends are not here: each database has its own fastest way to
//! store a batch.

macro_rules! log_ops {
    ($conn:ty, $begin:literal) => {
        /// Makes `c` in one transaction, if it is allowed (see [`NewChange::judge`]).
        async fn make_change(
            conn: &mut $conn,
            c: &$crate::store::NewChange,
        ) -> Result<Result<StoredMessage, $crate::store::Refusal>, StoreError> {
            use $crate::store::change;
            let mut tx = conn.begin_with($begin).await?;
            let row = sqlx::query(change::sql::TARGET)
                .bind(c.room.as_str())
                .bind(c.target_sql())
                .fetch_optional(&mut *tx)
                .await?;
            let target = match &row {
                None => None,
                Some(row) => Some(change::Target {
                    kind: row.try_get("kind")?,
                    session: row.try_get("session")?,
                    deleted: row.try_get::<Option<i64>, _>("deleted_at")?.is_some(),
                    reactions: row.try_get("reactions")?,
                }),
            };
            let reactions = match c.judge(target) {
                Ok(reactions) => reactions,
                Err(refusal) => return Ok(Err(refusal)),
            };
            let numbered = sqlx::query(change::sql::NUMBER).bind(c.room.as_str()).fetch_one(&mut *tx).await?;
            let (epoch, seq): (i64, i64) = (numbered.try_get("epoch")?, numbered.try_get("last_seq")?);
            let (kind, text) = c.row();
            sqlx::query(change::sql::INSERT)
                .bind(c.room.as_str())
                .bind(seq)
                .bind(c.by.as_str())
                .bind(c.session.to_string())
                .bind(text.as_ref())
                .bind(c.at)
                .bind(kind)
                .bind(c.target_sql())
                .execute(&mut *tx)
                .await?;
            let room = c.room.as_str();
            match &c.alteration {
                change::Alteration::Edit(text) => {
                    sqlx::query(change::sql::EDIT).bind(room).bind(c.target_sql()).bind(text.as_str()).bind(c.at)
                }
                change::Alteration::Delete => {
                    sqlx::query(change::sql::FORGET_EDITS).bind(room).bind(c.target_sql()).execute(&mut *tx).await?;
                    sqlx::query(change::sql::DELETE).bind(room).bind(c.target_sql()).bind(c.at)
                }
                change::Alteration::React { .. } => {
                    sqlx::query(change::sql::REACTIONS).bind(room).bind(c.target_sql()).bind(reactions)
                }
            }
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(Ok(c.stored(epoch, seq)?))
        }

        /// Takes a moderator's action in one transaction, if it is allowed (see
        /// [`NewModeration::judge`]): the room's rules and sanctions change, and the action is
        /// numbered in the room's log.
        async fn make_moderation(
            conn: &mut $conn,
            m: &$crate::store::NewModeration,
        ) -> Result<Result<StoredMessage, $crate::store::ModerationRefusal>, StoreError> {
            use $crate::store::moderation::{role_from_sql, role_sql, sql, target_account};
            use app::protocol::{Action, Role};
            let mut tx = conn.begin_with($begin).await?;
            let room = m.room.as_str();
            let mut roles = Vec::with_capacity(2);
            for account in [m.by_account.as_deref(), target_account(m)] {
                let role: Option<i16> = match account {
                    None => None,
                    Some(account) => {
                        sqlx::query_scalar(sql::ROLE).bind(room).bind(account).fetch_optional(&mut *tx).await?
                    }
                };
                roles.push(role_from_sql(role));
            }
            let exists = sqlx::query(sql::EXISTS).bind(room).fetch_optional(&mut *tx).await?.is_some();
            let owned = sqlx::query(sql::OWNED).bind(room).fetch_optional(&mut *tx).await?.is_some();
            if let Err(refusal) = m.judge(roles[0], roles[1], exists, owned) {
                return Ok(Err(refusal));
            }
            let record = m.record();
            match &m.action {
                Action::Kick { .. } => {}
                Action::Timeout { name, reason, .. } | Action::Ban { name, reason, .. } => {
                    let kind = if matches!(m.action, Action::Ban { .. }) {
                        $crate::store::SanctionKind::Ban
                    } else {
                        $crate::store::SanctionKind::Timeout
                    };
                    for subject in &record.subjects {
                        sqlx::query(sql::SANCTION)
                            .bind(room)
                            .bind(kind.sql())
                            .bind(subject.to_string())
                            .bind($crate::identity::lookalike::same_name(name))
                            .bind(record.until)
                            .bind(reason.as_str())
                            .bind(m.by.as_str())
                            .bind(m.at)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                Action::Pardon { name } => {
                    sqlx::query(sql::PARDON)
                        .bind(room)
                        .bind($crate::identity::lookalike::same_name(name))
                        .execute(&mut *tx)
                        .await?;
                }
                Action::SlowMode { seconds } => {
                    let seconds = i64::try_from(*seconds).unwrap_or(i64::MAX);
                    sqlx::query(sql::SLOW_MODE).bind(room).bind(seconds).execute(&mut *tx).await?;
                }
                Action::Topic { text } => {
                    sqlx::query(sql::TOPIC).bind(room).bind(text.as_str()).execute(&mut *tx).await?;
                }
                Action::Retention { days } => {
                    let days = (*days != 0).then_some(i64::from(*days));
                    sqlx::query(sql::RETENTION).bind(room).bind(days).execute(&mut *tx).await?;
                }
                Action::Role { name, role } => {
                    let account = target_account(m).unwrap_or_default();
                    if *role == Role::Owner {
                        sqlx::query(sql::DEMOTE_OWNER).bind(room).execute(&mut *tx).await?;
                    }
                    if *role == Role::Member {
                        sqlx::query(sql::DROP_ROLE).bind(room).bind(account).execute(&mut *tx).await?;
                    } else {
                        sqlx::query(sql::SET_ROLE)
                            .bind(room)
                            .bind(account)
                            .bind(name.as_str())
                            .bind(role_sql(*role))
                            .execute(&mut *tx)
                            .await?;
                    }
                }
            }
            let numbered = sqlx::query(sql::NUMBER)
                .bind(room)
                .bind($crate::store::new_epoch())
                .bind(m.at)
                .fetch_one(&mut *tx)
                .await?;
            let (epoch, seq): (i64, i64) = (numbered.try_get("epoch")?, numbered.try_get("last_seq")?);
            let text = serde_json::to_string(&record).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            sqlx::query(sql::INSERT)
                .bind(room)
                .bind(seq)
                .bind(m.by.as_str())
                .bind(m.by_session.to_string())
                .bind(text)
                .bind(m.at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(Ok(m.stored(record, epoch, seq)?))
        }

        /// A room's rules, and the sanctions in force at `now`. A damaged row is left out, and
        /// named in the log.
        async fn load_room_state(
            conn: &mut $conn,
            room: &app::names::RoomName,
            now: app::protocol::Millis,
        ) -> Result<$crate::store::RoomState, StoreError> {
            use $crate::store::moderation::{role_from_sql, sql, Sanction, SanctionKind};
            use app::protocol::Role;
            let mut state = $crate::store::RoomState::default();
            for row in sqlx::query(sql::ROLES).bind(room.as_str()).fetch_all(&mut *conn).await? {
                let name: &str = row.try_get("nickname")?;
                let Ok(name) = app::names::Nickname::parse(name) else {
                    tracing::warn!(%room, name, "skipped a damaged role");
                    continue;
                };
                match role_from_sql(row.try_get("role")?) {
                    Role::Owner => state.rules.owner = Some(name),
                    Role::Moderator => state.rules.moderators.push(name),
                    Role::Member => {}
                }
            }
            if let Some(row) = sqlx::query(sql::SETTINGS).bind(room.as_str()).fetch_optional(&mut *conn).await? {
                state.rules.topic = row.try_get("topic")?;
                state.rules.slow_mode = u64::try_from(row.try_get::<i64, _>("slow_mode")?).unwrap_or(0);
                let days = row.try_get::<Option<i64>, _>("retention_days")?.unwrap_or(0);
                state.rules.retention_days = u32::try_from(days).unwrap_or(0);
            }
            let rows = sqlx::query(sql::SANCTIONS).bind(room.as_str()).bind(now).fetch_all(&mut *conn).await?;
            for row in rows {
                let subject: &str = row.try_get("subject")?;
                let (Some(kind), Ok(subject)) = (SanctionKind::from_sql(row.try_get("kind")?), subject.parse()) else {
                    tracing::warn!(%room, subject, "skipped a damaged sanction");
                    continue;
                };
                state.sanctions.push(Sanction {
                    kind,
                    subject,
                    name: row.try_get("name")?,
                    until: row.try_get("until")?,
                    reason: row.try_get("reason")?,
                });
            }
            Ok(state)
        }
    };
}

pub(super) use log_ops;

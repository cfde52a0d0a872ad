//! Integration tests: the real server on port 0, real WebSocket clients. One test binary, so
//! that the server crate is linked once.

mod accounts;
mod admin;
mod bots;
mod changes;
mod churn;
mod cluster;
mod crash;
mod echo;
mod formatting;
mod framing;
mod guard;
mod helpers;
mod history;
mod hixie;
mod http;
mod identity;
mod json_dialect;
mod limits;
mod metrics;
mod mixed_room;
mod moderation;
mod plain_dialect;
mod postgres;
mod reactions;
mod read_marks;
mod relay;
mod replies;
mod retention;
mod search;
mod seed_004;
mod shutdown;
mod slow_reader;
mod storage;
mod webhooks;

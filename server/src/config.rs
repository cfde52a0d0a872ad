//! The server's configuration: command-line flags (each also an environment variable) and the
//! limits that protect it, in one place with safe defaults.

use clap::Parser;
use std::{net::SocketAddr, path::PathBuf, time::Duration};

#[derive(Debug, Clone, Parser)]
#[command(name = "server", about = "A WebSocket chat server with a Leptos web client")]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "CHAT_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Directory for the server's data; created if missing.
    #[arg(long, env = "CHAT_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Where messages are stored: a `postgres://` URL, or `sqlite://<file>`. Default: the SQLite
    /// file `chat.db` in the data directory.
    #[arg(long, env = "CHAT_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Largest size the SQLite store may grow to, in bytes; past it a message is refused (the
    /// sender is told, nothing is lost) while reading goes on. For a disk shared with other
    /// data, so that the chat fills its quota rather than the disk. The write-ahead log beside
    /// the file adds up to a few MiB between checkpoints. Default: no quota (the disk is the
    /// limit). PostgreSQL sets its own quotas.
    #[arg(long, env = "CHAT_MAX_DATABASE_BYTES")]
    pub max_database_bytes: Option<u64>,

    /// Serve the site's files (wasm, JS, CSS, assets) from this directory, as cargo-leptos
    /// writes it, instead of from the binary. Default: the binary's own copy (a release build),
    /// or `target/site`.
    #[arg(long, env = "LEPTOS_SITE_ROOT")]
    pub site_root: Option<String>,

    /// Secret that signs session cookies and tokens; every process serving the same rooms needs
    /// the same one. Default: a random key kept in `session.key` in the data directory.
    #[arg(long, env = "CHAT_SESSION_SECRET", hide_env_values = true)]
    pub session_secret: Option<String>,

    /// Web origins (`https://host[:port]`, comma-separated) whose pages may use this server besides
    /// its own pages; a page from anywhere else gets 403 on the WebSocket and on form posts.
    #[arg(long, env = "CHAT_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// Names (comma-separated) this server answers to besides its addresses and `localhost`: the
    /// name people reach it by. A request for any other name gets 421, so that no page can reach
    /// it by pointing its own name at the server's address (DNS rebinding).
    #[arg(long, env = "CHAT_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,

    /// Also stand in for seed 004's echo server, on this address: on any path (its pages use
    /// `/chat` and `/chatsocket`), each text message is answered with `服务端已收到: <message>`.
    /// Its pages name their own port (8000, 80), hence an address of its own. Off by default.
    #[arg(long, env = "CHAT_ECHO_ADDR")]
    pub echo_addr: Option<SocketAddr>,

    /// Also stand in for seed 004's Tornado room, on this address: `/chat` (the lobby) and
    /// `/chat/<room>`, a uuid first and then messages as HTML fragments, the page's JSON in. Its
    /// handshake is the plain dialect's, and its page names its own port (8888), hence an
    /// address of its own. Off by default.
    #[arg(long, env = "CHAT_TORNADO_ADDR")]
    pub tornado_addr: Option<SocketAddr>,

    /// Share every room with the other server processes ("nodes") given the same Redis, the same
    /// PostgreSQL (`--database-url postgres://…`) and the same `--session-secret`: Redis carries
    /// what each node commits and who is where; the log in PostgreSQL stays the truth. A
    /// `redis://host:port` URL. Default: a single node, sharing nothing.
    #[arg(long, env = "CHAT_REDIS_URL")]
    pub redis_url: Option<String>,

    /// Serve Prometheus metrics at `http://<addr>/metrics`, on a listener of its own. Off by
    /// default; give it a loopback address (`127.0.0.1:9464`) unless a firewall keeps it in.
    #[arg(long, env = "CHAT_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,

    /// How the log is written: `text` (a line a person reads) or `json` (one object per line,
    /// for a collector).
    #[arg(long, env = "CHAT_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Forget messages older than this many days, in the background (a room's owner may ask
    /// for fewer). A client whose resume position was forgotten is told to start again. Default:
    /// kept for ever.
    #[arg(long, env = "CHAT_RETENTION_DAYS", value_parser = at_least::<u32, 1>)]
    pub retention_days: Option<u32>,

    #[command(flatten)]
    pub overrides: LimitOverrides,

    /// Instead of serving: ask the server running on this data directory to do something.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Every limit, with `overrides` applied by [`Config::from_args`].
    #[arg(skip)]
    pub limits: Limits,
}

/// How the log is written (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// The operator's commands, sent to the running server (see `server admin --help`).
    #[command(subcommand)]
    Admin(crate::admin::Request),
    /// Writes ROOM's log as JSON lines (a header, then one entry per line), for `import` on
    /// this server or another, whichever its store. Works beside the running server.
    Export {
        room: String,
        /// The file to write [default: standard output].
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Reads an `export` into its room, which must have no log yet: every message keeps its
    /// number, so that clients resume where they were.
    Import {
        /// The export [default: standard input].
        file: Option<PathBuf>,
        /// Into this room instead of the one exported.
        #[arg(long)]
        room: Option<String>,
    },
}

/// The limits that can be set from the command line (the rest keep their defaults). Raising them
/// is for load tests and conformance runs, not for the open internet.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LimitOverrides {
    /// Largest WebSocket message a room connection may send, in bytes [default: 8192].
    #[arg(long, env = "CHAT_MAX_MESSAGE_BYTES", value_parser = at_least::<usize, 128>)]
    pub max_message_bytes: Option<usize>,
    /// Messages per second a connection may send on average [default: 5].
    #[arg(long, env = "CHAT_MESSAGES_PER_SECOND", value_parser = positive_rate)]
    pub messages_per_second: Option<f64>,
    /// Messages a connection may send at once after a quiet spell [default: 20].
    #[arg(long, env = "CHAT_MESSAGE_BURST", value_parser = at_least::<u32, 1>)]
    pub message_burst: Option<u32>,
    /// WebSocket connections one client address may hold open, and as many other HTTP
    /// connections [default: 64].
    #[arg(long, env = "CHAT_MAX_CONNECTIONS_PER_ADDRESS", value_parser = at_least::<usize, 1>)]
    pub max_connections_per_address: Option<usize>,
    /// Connections the server holds in all [default: the open-files limit, less 256 kept for the
    /// database and the site's files].
    #[arg(long, env = "CHAT_MAX_CONNECTIONS", value_parser = at_least::<usize, 1>)]
    pub max_connections: Option<usize>,
    /// Sessions one client address may start a minute (choosing a nickname, `POST
    /// /api/session`), as many at once [default: 30].
    #[arg(long, env = "CHAT_NEW_SESSIONS_PER_MINUTE", value_parser = at_least::<u32, 1>)]
    pub new_sessions_per_minute: Option<u32>,
    /// Rooms one client address may create an hour (by posting the first message of a room
    /// that has no log), as many at once [default: 10].
    #[arg(long, env = "CHAT_NEW_ROOMS_PER_HOUR", value_parser = at_least::<u32, 1>)]
    pub new_rooms_per_hour: Option<u32>,
    /// Log-in attempts a minute, as many at once, from one client address and for one
    /// registered nickname (whichever address they come from) [default: 10].
    #[arg(long, env = "CHAT_LOGINS_PER_MINUTE", value_parser = at_least::<u32, 1>)]
    pub logins_per_minute: Option<u32>,
    /// Nicknames one client address may register an hour, as many at once [default: 5].
    #[arg(long, env = "CHAT_REGISTRATIONS_PER_HOUR", value_parser = at_least::<u32, 1>)]
    pub registrations_per_hour: Option<u32>,
    /// With `--redis-url`: seconds after which a node not heard of is given up and its members
    /// leave its rooms everywhere [default: 10].
    #[arg(long, env = "CHAT_NODE_TIMEOUT_SECONDS", value_parser = at_least::<u64, 2>)]
    pub node_timeout_seconds: Option<u64>,
}

/// A rate: a finite number above zero (0, a negative number or NaN would stop every client, or
/// let any through).
fn positive_rate(raw: &str) -> Result<f64, String> {
    match raw.trim().parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        Ok(_) => Err("must be a number above 0 (a rate per second)".to_owned()),
        Err(err) => Err(err.to_string()),
    }
}

/// A whole number of at least `MIN`.
fn at_least<T, const MIN: u16>(raw: &str) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + From<u16>,
    T::Err: std::fmt::Display,
{
    let value: T = raw.trim().parse().map_err(|err: T::Err| err.to_string())?;
    if value < T::from(MIN) {
        return Err(format!("must be at least {MIN}"));
    }
    Ok(value)
}

impl Config {
    /// The configuration from the command line and the environment.
    pub fn from_args() -> Self {
        let mut config = Self::parse();
        config.limits = Limits::default().with(&config.overrides);
        config
    }

    /// The configuration a test uses: every default, a given data directory.
    pub fn for_tests(data_dir: PathBuf) -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir,
            database_url: None,
            max_database_bytes: None,
            site_root: Some("target/site".to_owned()),
            session_secret: None,
            allowed_origins: Vec::new(),
            allowed_hosts: Vec::new(),
            echo_addr: None,
            tornado_addr: None,
            redis_url: None,
            metrics_addr: None,
            retention_days: None,
            log_format: LogFormat::Text,
            command: None,
            overrides: LimitOverrides::default(),
            // Tests wait for leaves: a short grace period keeps them quick.
            limits: Limits { presence_grace: Duration::from_millis(200), ..Limits::default() },
        }
    }
}

/// Every limit the server enforces. The defaults are meant to be safe on the open internet;
/// library defaults (64 MiB messages, 128 KiB buffers per connection) are not.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest WebSocket message (and frame) a room or `/echo` connection may send. Room text is
    /// at most `MessageText::MAX_BYTES`; the rest leaves room for the JSON envelope and its
    /// escapes. (Conformance runs raise it: Autobahn sends 16 MiB.)
    pub room_max_message_bytes: usize,
    /// Flood control for every connection: a token bucket of `message_burst` frames refilled at
    /// `messages_per_second`; frames over it wait their turn (the client is told once), and a
    /// client still over it after `flood_abuse_after` waiting frames is closed with 1008. The
    /// same rate holds for each session's messages whichever way they come, and ten times it
    /// for each address's (see [`crate::session::quota`]).
    pub messages_per_second: f64,
    pub message_burst: u32,
    pub flood_abuse_after: u32,
    /// WebSocket connections one address (an IPv6 /64) may hold open, and as many connections
    /// still speaking HTTP: enough for a household or an office behind one NAT with several tabs
    /// each, not for one client to exhaust the server.
    pub max_connections_per_address: usize,
    /// Connections of every kind the server holds at once. Past the open-files limit accepting
    /// fails for everyone and the database cannot open a file, so the default stays under it:
    /// the limit (raised to the hard one at start), less what the rest of the server needs.
    pub max_connections: usize,
    /// How long a new connection has to send its request head, and how long an idle HTTP
    /// keep-alive connection stays open: a client that connects and says nothing (slowloris)
    /// holds a socket for this long at most. A WebSocket is never idle in this sense: it is
    /// kept or dropped by the pings below.
    pub handshake_timeout: Duration,
    /// How long a request's body may take to arrive, in all: one trickled a byte at a time
    /// holds its connection no longer.
    pub body_deadline: Duration,
    /// The largest request body: a form post or a JSON request is a few KiB at most.
    pub max_body_bytes: usize,
    /// Sessions one address may start a minute, as many at once: a class choosing nicknames
    /// behind one NAT gets in, a script minting identities does not.
    pub new_sessions_per_minute: u32,
    /// Rooms one address may create an hour, as many at once: each is kept for good and
    /// listed, so one client must not fill the disk or push the real rooms off the list.
    pub new_rooms_per_hour: u32,
    /// Log-in attempts a minute, as many at once, per address and per registered nickname:
    /// someone who mistypes gets in, a script guessing passwords gets ten guesses a minute
    /// however many addresses it has.
    pub logins_per_minute: u32,
    /// Nicknames one address may register an hour, as many at once: each is kept for good.
    pub registrations_per_hour: u32,
    /// How many events are queued for one member at most: frames its socket has not taken
    /// yet, or events kept while it catches up. A member that falls further behind re-reads
    /// what it missed from the log instead of letting its queue grow.
    pub room_backlog: usize,
    /// How many guest names there are (`guest-0000` to `guest-9999`): a client that gives no
    /// name gets one at random, or, if someone in the room has that one, the next free one.
    pub guest_names: u16,
    /// How many recent messages a client gets when it joins without a resume position.
    pub history_on_join: u32,
    /// Messages per read when a client catches up from the log.
    pub replay_page: u32,
    /// Messages waiting for the writer's next commit; senders wait when it is full.
    pub write_queue: usize,
    /// At most this many messages in one commit.
    pub commit_batch: usize,
    /// How long a sender waits for its message to be stored, and how long one commit may take,
    /// before the sender is told that storage is unavailable: a row lock held elsewhere or a
    /// database connection gone quiet must not hold every room's writing. Above the stores' own
    /// waits (SQLite's busy timeout, PostgreSQL's lock and statement timeouts), which answer
    /// first with their own reason.
    pub write_deadline: Duration,
    /// How long a member whose connection dropped stays in the room: a reload within it is not
    /// announced as a leave and a join.
    pub presence_grace: Duration,
    /// How long a member shows as typing after their last typing notice.
    pub typing_ttl: Duration,
    /// How often retention looks for messages to forget (with `--retention-days`, or a room
    /// owner's retention).
    pub retention_sweep: Duration,
    /// Webhooks: how often an idle one looks for new messages, the first pause after a failed
    /// delivery (doubled after each one, up to the longest), how long one request may take,
    /// and how often the list of webhooks is read again.
    pub webhook_poll: Duration,
    pub webhook_first_backoff: Duration,
    pub webhook_max_backoff: Duration,
    pub webhook_deadline: Duration,
    pub webhook_refresh: Duration,
    /// How long a node keeps a webhook to itself without renewing its lease (another node
    /// takes over after it).
    pub webhook_lease: Duration,
    /// A room connection is pinged this often...
    pub ping_every: Duration,
    /// ...and dropped as dead when nothing (pong or anything else) comes back within this.
    pub pong_deadline: Duration,
    /// A write that makes no progress for this long means the peer stopped reading: it is
    /// dropped (and resumes from the log when it comes back).
    pub write_stall: Duration,
    /// How long a closing connection waits for the peer's close frame.
    pub close_grace: Duration,
    /// How long shutdown waits for sessions to finish before giving up.
    pub drain_timeout: Duration,
    /// With several nodes: how often each tells the others it is alive and whom it holds.
    pub beat_every: Duration,
    /// With several nodes: how long a node may go unheard before it is given up (and its members
    /// leave). Several heartbeats, so that a busy moment or a lost publication is not a death.
    pub node_timeout: Duration,
}

impl Limits {
    /// These limits with the command line's overrides applied.
    pub fn with(mut self, overrides: &LimitOverrides) -> Self {
        if let Some(bytes) = overrides.max_message_bytes {
            self.room_max_message_bytes = bytes;
        }
        if let Some(rate) = overrides.messages_per_second {
            self.messages_per_second = rate;
        }
        if let Some(burst) = overrides.message_burst {
            self.message_burst = burst;
        }
        if let Some(max) = overrides.max_connections_per_address {
            self.max_connections_per_address = max;
        }
        if let Some(max) = overrides.max_connections {
            self.max_connections = max;
        }
        if let Some(count) = overrides.new_sessions_per_minute {
            self.new_sessions_per_minute = count;
        }
        if let Some(count) = overrides.new_rooms_per_hour {
            self.new_rooms_per_hour = count;
        }
        if let Some(count) = overrides.logins_per_minute {
            self.logins_per_minute = count;
        }
        if let Some(count) = overrides.registrations_per_hour {
            self.registrations_per_hour = count;
        }
        if let Some(seconds) = overrides.node_timeout_seconds {
            self.node_timeout = Duration::from_secs(seconds);
        }
        self
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            room_max_message_bytes: app::protocol::MAX_FRAME_BYTES,
            // A person types at most a few lines a second; pasting twenty lines passes at once.
            messages_per_second: 5.0,
            message_burst: 20,
            // About 20 s flat out at the throttled pace.
            flood_abuse_after: 100,
            max_connections_per_address: 64,
            max_connections: connections_within_open_files(),
            handshake_timeout: Duration::from_secs(10),
            body_deadline: Duration::from_secs(10),
            // A message is at most 4 KiB of text, up to three times that once form-encoded.
            max_body_bytes: 64 * 1024,
            new_sessions_per_minute: 30,
            new_rooms_per_hour: 10,
            logins_per_minute: 10,
            registrations_per_hour: 5,
            room_backlog: 1024,
            guest_names: 10_000,
            history_on_join: 50,
            replay_page: 500,
            write_queue: 4096,
            commit_batch: 512,
            write_deadline: Duration::from_secs(5),
            presence_grace: Duration::from_secs(3),
            typing_ttl: Duration::from_secs(6),
            retention_sweep: Duration::from_secs(600),
            webhook_poll: Duration::from_millis(250),
            webhook_first_backoff: Duration::from_secs(1),
            webhook_max_backoff: Duration::from_secs(300),
            webhook_deadline: Duration::from_secs(10),
            webhook_refresh: Duration::from_secs(5),
            webhook_lease: Duration::from_secs(30),
            // Under the 30 s after which many proxies and NATs drop an idle connection.
            ping_every: Duration::from_secs(25),
            pong_deadline: Duration::from_secs(10),
            write_stall: Duration::from_secs(10),
            close_grace: Duration::from_secs(1),
            drain_timeout: Duration::from_secs(10),
            beat_every: Duration::from_secs(1),
            node_timeout: Duration::from_secs(10),
        }
    }
}

/// Files kept for what is not a client connection: the listener, the database's files and
/// connections, files of the site being sent, the log.
const FILES_KEPT: u64 = 256;

/// How many connections fit under this process's open-files limit, with [`FILES_KEPT`] to spare.
fn connections_within_open_files() -> usize {
    let soft = rlimit::Resource::NOFILE.get().map_or(1024, |(soft, _)| soft);
    usize::try_from(soft.saturating_sub(FILES_KEPT).max(64)).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_that_would_break_the_server_are_refused_at_start() {
        for (flag, value) in [
            ("--messages-per-second", "0"),
            ("--messages-per-second", "-5"),
            ("--messages-per-second", "NaN"),
            ("--messages-per-second", "inf"),
            ("--message-burst", "0"),
            ("--max-connections-per-address", "0"),
            ("--max-connections", "0"),
            ("--max-message-bytes", "12"),
            ("--new-sessions-per-minute", "0"),
            ("--new-rooms-per-hour", "0"),
            ("--node-timeout-seconds", "1"),
            ("--logins-per-minute", "0"),
            ("--registrations-per-hour", "0"),
        ] {
            let err = Config::try_parse_from(["server".to_owned(), format!("{flag}={value}")])
                .expect_err(&format!("{flag} {value} should be refused"));
            assert!(err.to_string().contains(flag), "{err}");
        }
        let good =
            ["server", "--messages-per-second", "0.5", "--message-burst", "1", "--max-message-bytes", "128"];
        assert!(Config::try_parse_from(good).is_ok());
    }
}

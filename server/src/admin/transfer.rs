//! `server export ROOM` and `server import [FILE]`: a room's log out to JSON lines and back, on
//! the store itself (beside a running server, whose lock they leave alone; see
//! [`store::transfer`](crate::store::transfer)).

use crate::config::Config;
use crate::store::{self, transfer, Tenancy};
use anyhow::Context;
use app::names::RoomName;
use std::io::{BufReader, BufWriter};
use std::path::Path;

/// Writes `room`'s log to `out` (standard output for `None` or `-`).
pub async fn export(config: &Config, room: &str, out: Option<&Path>) -> anyhow::Result<()> {
    let room = RoomName::parse(room).map_err(|err| anyhow::anyhow!("bad room name {room:?}: {err}"))?;
    let store = open(config).await?;
    let count = match out.filter(|path| *path != Path::new("-")) {
        Some(path) => {
            let file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
            transfer::export(&*store, &room, &mut BufWriter::new(file)).await?
        }
        None => transfer::export(&*store, &room, &mut BufWriter::new(std::io::stdout().lock())).await?,
    };
    tracing::info!(%room, count, "exported");
    Ok(())
}

/// Reads an export from `input` (standard input for `None` or `-`) into its room, or `rename`.
pub async fn import(config: &Config, input: Option<&Path>, rename: Option<&str>) -> anyhow::Result<()> {
    let rename = rename
        .map(|name| RoomName::parse(name).map_err(|err| anyhow::anyhow!("bad room name {name:?}: {err}")))
        .transpose()?;
    let store = open(config).await?;
    let (room, count) = match input.filter(|path| *path != Path::new("-")) {
        Some(path) => {
            let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
            transfer::import(&*store, BufReader::new(file), rename).await?
        }
        None => transfer::import(&*store, std::io::stdin().lock(), rename).await?,
    };
    tracing::info!(%room, count, "imported");
    Ok(())
}

async fn open(config: &Config) -> anyhow::Result<store::DynStore> {
    store::open(config.database_url.as_deref(), &config.data_dir, None, Tenancy::Tool)
        .await
        .context("opening the store")
}

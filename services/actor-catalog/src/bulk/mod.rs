//! Bulk first load of credits: the path that makes a first IMDb import fast (PostgreSQL's own advice for
//! populating a database: COPY, then indexes and foreign keys built once instead of maintained row by row).
//!
//! `UpsertBatch` writes a credit into `filmography` with its indexes and two foreign-key checks per row,
//! about 30,000 rows/s on two cores whatever the batch size. A load into a catalogue that has no credits yet
//! goes another way:
//!
//! 1. `begin`: a `bulk_loads` row, a stage table and the load's new table `LIKE filmography` (no index, no
//!    foreign key).
//! 2. `stage`: each chunk is checked like `UpsertBatch` checks credits. Credits whose actor and title this
//!    replica's id map knows ([`resolve`], read on its first chunk) are COPYed straight into the new table in
//!    binary ([`copy`]); the others go into the stage with their IMDb ids. One transaction with the chunk's
//!    `bulk_load_chunks` row, so a chunk sent twice (a retry, a resumed job) is staged once.
//! 3. `finish`: one background task per load (a session advisory lock, so one replica at a time) moves the
//!    stage's credits whose actor and title exist now into the new table (what stays are the rejected credits,
//!    listed with their lines), builds the same indexes and foreign keys as the migrations (a key repeated in
//!    the file keeps its last-staged row), then swaps it in under a brief ACCESS EXCLUSIVE lock, merging any
//!    credit written meanwhile by `UpsertBatch`. Readers see no credit of the load until all of them are
//!    there. The swap's transaction also records the result and queues a `catalog.reloaded` event in the
//!    outbox (the other replicas re-read everything); after it, the foreign keys are validated (when nothing
//!    was deleted during the load: see migration 0005), and popularity (announced by a second
//!    `catalog.reloaded`), this replica's caches and search index catch up in the background (logged).
//!
//! A finish that fails (the database restarted, say) keeps the filled table and the stage: the next `finish`
//! call drops what the failed one built on them and starts over.

use std::sync::Arc;
use std::time::{Duration, Instant};

use iknow_common::Error;
use iknow_common::db::{is_foreign_key_violation, is_unique_violation};
use iknow_proto::catalog::v1::{CreditsLoadState, RejectedLine, StageCreditsRequest, StageCreditsResponse};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

use crate::prepare;

mod copy;
mod resolve;

pub use resolve::Resolvers;

pub const STAGING: &str = "staging";
pub const FINISHING: &str = "finishing";
pub const FINISHED: &str = "finished";
/// First key of the advisory locks of bulk loads (the second is the load's hash).
const LOCK_SPACE: i32 = 0x1b_01;
/// Rejected credits listed (all are counted).
const MAX_LISTED: i64 = 100;
/// Most credits one `StageCredits` call may carry.
pub const MAX_CHUNK: usize = 200_000;
/// Ids per step of the catch-up after a load (popularity, caches, index).
const CATCH_UP_CHUNK: usize = 5_000;

/// What a finishing load needs after its swap.
#[derive(Clone)]
pub struct Finisher {
    pub pool: PgPool,
    /// The id maps of loads staged here (dropped at the finish).
    pub resolvers: Arc<Resolvers>,
    pub cache: crate::cache::Cache,
    pub indexes: crate::index::Indexes,
    pub events: Option<(crate::events::Announce, iknow_messaging::RelayHandle)>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Listed {
    line: u64,
    key: String,
    reason: String,
}

#[derive(sqlx::FromRow)]
struct LoadRow {
    stage_table: String,
    state: String,
    staged: i64,
    credits_written: i64,
    duplicates: i64,
    rejected_count: i64,
    rejected: sqlx::types::Json<Vec<Listed>>,
    error: Option<String>,
}

impl LoadRow {
    fn state(self) -> CreditsLoadState {
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        CreditsLoadState {
            accepted: true,
            state: self.state,
            reason: self.error.unwrap_or_default(),
            staged: n(self.staged),
            credits_written: n(self.credits_written),
            duplicates: n(self.duplicates),
            rejected_count: n(self.rejected_count),
            rejected: self
                .rejected
                .0
                .into_iter()
                .map(|l| RejectedLine { line: l.line, key: l.key, reason: l.reason })
                .collect(),
        }
    }
}

fn check_id(load_id: &str) -> Result<(), Error> {
    if load_id.trim().is_empty() || load_id.len() > 100 {
        return Err(Error::field("load_id", "must be 1 to 100 characters"));
    }
    Ok(())
}

fn unknown_load(load_id: &str) -> Error {
    Error::not_found("LOAD_NOT_FOUND", format!("no bulk load {load_id:?}"))
}

async fn load(conn: &mut PgConnection, load_id: &str, lock: &str) -> sqlx::Result<Option<LoadRow>> {
    sqlx::query_as(&format!(
        "SELECT stage_table, state, \
                CASE WHEN state = 'finished' THEN staged ELSE \
                    (SELECT coalesce(sum(rows), 0)::int8 FROM bulk_load_chunks WHERE load_id = l.id) END AS staged, \
                credits_written, duplicates, rejected_count, rejected, error \
         FROM bulk_loads l WHERE id = $1 {lock}"
    ))
    .bind(load_id)
    .fetch_optional(conn)
    .await
}

/// Opens the load `load_id`, or reopens it (its state as it is). Not accepted when the catalogue has credits:
/// those are merged row by row by `UpsertBatch`. A load left staging starts reading its id map here, in the
/// background, while the importer reads its first chunk.
pub async fn begin(pool: &PgPool, resolvers: &Arc<Resolvers>, load_id: &str) -> Result<CreditsLoadState, Error> {
    let state = open(pool, load_id).await?;
    if state.accepted && state.state == STAGING {
        let (pool, resolvers, id) = (pool.clone(), resolvers.clone(), load_id.to_owned());
        tokio::spawn(async move {
            // A failed read is read again by the first chunk, which answers its error.
            if let Err(e) = resolvers.get(&pool, &id).await {
                tracing::warn!(error = %e, load_id = id, "the id map of a bulk load could not be read ahead");
            }
        });
    }
    Ok(state)
}

async fn open(pool: &PgPool, load_id: &str) -> Result<CreditsLoadState, Error> {
    check_id(load_id)?;
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1, 0)").bind(LOCK_SPACE).execute(&mut *tx).await?;
    if let Some(row) = load(&mut tx, load_id, "").await? {
        if row.state == STAGING {
            // A load opened by a version that staged everything in the stage has no new table yet.
            create_next(&mut tx, &next_table(&row.stage_table)).await?;
            tx.commit().await?;
        }
        return Ok(row.state());
    }
    let has_credits: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM filmography)").fetch_one(&mut *tx).await?;
    if has_credits {
        return Ok(CreditsLoadState {
            accepted: false,
            reason: "the catalogue already has credits: they are merged batch by batch".into(),
            ..Default::default()
        });
    }
    let stage = format!("bulk_stage_{}", Uuid::now_v7().simple());
    sqlx::query(&format!(
        "CREATE TABLE {stage} (line BIGINT NOT NULL, id UUID NOT NULL, actor_imdb_id TEXT NOT NULL, \
         content_imdb_id TEXT NOT NULL, role_name TEXT NOT NULL, characters TEXT NOT NULL, \
         category TEXT NOT NULL, credit_order INTEGER)"
    ))
    .execute(&mut *tx)
    .await?;
    create_next(&mut tx, &next_table(&stage)).await?;
    sqlx::query("INSERT INTO bulk_loads (id, stage_table, state) VALUES ($1, $2, 'staging')")
        .bind(load_id)
        .bind(&stage)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(load_id, stage, "bulk credits load opened");
    Ok(CreditsLoadState { accepted: true, state: STAGING.into(), ..Default::default() })
}

/// The rows of a chunk that are the last of their key (a key repeated inside the chunk keeps its last line, as
/// `UpsertBatch` does), in the chunk's order.
fn last_of_each_key(rows: &[(u64, prepare::CreditRow)]) -> Vec<&(u64, prepare::CreditRow)> {
    let mut last: FxHashMap<(&str, &str, &str), usize> = FxHashMap::default();
    last.reserve(rows.len());
    for (i, (_, r)) in rows.iter().enumerate() {
        last.insert(r.key_ref(), i);
    }
    if last.len() == rows.len() {
        return rows.iter().collect();
    }
    rows.iter().enumerate().filter(|(i, (_, r))| last.get(&r.key_ref()) == Some(i)).map(|(_, row)| row).collect()
}

/// The load's new table, filled while staging and swapped in at the finish.
fn next_table(stage: &str) -> String {
    stage.replacen("bulk_stage_", "bulk_next_", 1)
}

/// Creates the new table (no index, no foreign key until the finish), if it is not there.
async fn create_next(conn: &mut PgConnection, next: &str) -> sqlx::Result<()> {
    let sql = format!("CREATE TABLE IF NOT EXISTS {next} (LIKE filmography INCLUDING DEFAULTS INCLUDING CONSTRAINTS)");
    sqlx::query(&sql).execute(conn).await.map(drop)
}

/// Stages one chunk (once per `first_line`..`last_line`): credits whose actor and title this replica's map
/// knows go straight into the new table, the others into the stage for the finish's join.
pub async fn stage(
    pool: &PgPool,
    resolvers: &Resolvers,
    req: StageCreditsRequest,
) -> Result<StageCreditsResponse, Error> {
    check_id(&req.load_id)?;
    if req.lines.len() != req.credits.len() {
        return Err(Error::field("lines", "one line per credit"));
    }
    if req.credits.len() > MAX_CHUNK {
        return Err(Error::field("credits", &format!("at most {MAX_CHUNK} per call")));
    }
    let mut rejected = vec![];
    let mut prepared = Vec::with_capacity(req.credits.len());
    for (credit, line) in req.credits.into_iter().zip(req.lines) {
        match prepare::credit(credit) {
            Ok(row) => prepared.push((line, row)),
            Err(r) => rejected.push(r),
        }
    }
    let rows = last_of_each_key(&prepared);
    let staged = u32::try_from(rows.len()).unwrap_or(u32::MAX);
    let started = Instant::now();
    // Read (once per load) before the chunk's transaction, which holds the load's row FOR SHARE: a finish
    // called meanwhile does not wait for the map.
    let ids = if rows.is_empty() { None } else { Some(resolvers.get(pool, &req.load_id).await?) };
    let mut tx = pool.begin().await?;
    let Some(load) = load(&mut tx, &req.load_id, "FOR SHARE").await? else {
        return Err(unknown_load(&req.load_id));
    };
    if load.state != STAGING {
        return Err(Error::field("load_id", &format!("the load is {}: no more chunks", load.state)));
    }
    let fresh: Option<i32> = sqlx::query_scalar(
        "INSERT INTO bulk_load_chunks (load_id, first_line, last_line, rows) VALUES ($1, $2, $3, $4) \
         ON CONFLICT DO NOTHING RETURNING rows",
    )
    .bind(&req.load_id)
    .bind(i64::try_from(req.first_line).unwrap_or(i64::MAX))
    .bind(i64::try_from(req.last_line).unwrap_or(i64::MAX))
    .bind(i32::try_from(staged).unwrap_or(i32::MAX))
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(ids) = ids.filter(|_| fresh.is_some()) {
        let (mut resolved, mut unresolved) = (Vec::with_capacity(rows.len()), vec![]);
        let mut last_title = None;
        for (line, r) in rows.iter().copied() {
            match ids.credit(&mut last_title, &r.actor_imdb_id, &r.content_imdb_id) {
                Some(pair) => resolved.push((pair, r)),
                None => unresolved.push((*line, r)),
            }
        }
        let batches = [
            (
                format!("COPY {} ({}) FROM STDIN (FORMAT binary)", next_table(&load.stage_table), copy::CREDIT_COLUMNS),
                (!resolved.is_empty()).then(|| copy::credit_rows(resolved.into_iter())),
            ),
            (
                format!(
                    "COPY {} (line, id, actor_imdb_id, content_imdb_id, role_name, characters, category, \
                     credit_order) FROM STDIN",
                    load.stage_table
                ),
                (!unresolved.is_empty()).then(|| copy::stage_rows(unresolved.into_iter()).into_bytes()),
            ),
        ];
        for (sql, data) in batches {
            let Some(data) = data else { continue };
            let mut copy = tx.copy_in_raw(&sql).await?;
            copy.send(data).await?;
            copy.finish().await?;
        }
    }
    tx.commit().await?;
    iknow_common::metrics::record_db_query("actor-catalog", "stage_credits", started);
    Ok(StageCreditsResponse { staged, rejected })
}

/// Starts (or restarts, after a failure) the finish of `load_id` and answers its state at once.
pub async fn finish(finisher: &Finisher, load_id: &str) -> Result<CreditsLoadState, Error> {
    check_id(load_id)?;
    let mut conn = finisher.pool.acquire().await?;
    let Some(row) = load(&mut conn, load_id, "").await? else {
        return Err(unknown_load(load_id));
    };
    drop(conn);
    if row.state == FINISHED {
        return Ok(row.state());
    }
    // A connection of its own holds the lock for the whole finish: if the task dies, so does the lock.
    let mut own = PgConnection::connect_with(&finisher.pool.connect_options()).await?;
    let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, hashtext($2))")
        .bind(LOCK_SPACE)
        .bind(load_id)
        .fetch_one(&mut own)
        .await?;
    if got {
        sqlx::query("UPDATE bulk_loads SET state = 'finishing' WHERE id = $1 AND state <> 'finished'")
            .bind(load_id)
            .execute(&mut own)
            .await?;
        let (finisher, id) = (finisher.clone(), load_id.to_owned());
        let span = tracing::info_span!("bulk_finish", load_id = %id);
        tokio::spawn(tracing::Instrument::instrument(
            async move {
                if let Err(e) = run(&finisher, own, &id).await {
                    tracing::error!(error = %e, "bulk credits load failed; the next finish call retries");
                    let _ = sqlx::query("UPDATE bulk_loads SET error = $2 WHERE id = $1 AND state <> 'finished'")
                        .bind(&id)
                        .bind(e.to_string())
                        .execute(&finisher.pool)
                        .await;
                }
            },
            span,
        ));
    }
    let mut conn = finisher.pool.acquire().await?;
    let row = load(&mut conn, load_id, "").await?.ok_or_else(|| unknown_load(load_id))?;
    Ok(row.state())
}

async fn exec(conn: &mut PgConnection, sql: &str) -> sqlx::Result<u64> {
    let started = Instant::now();
    let n = sqlx::query(sql).execute(&mut *conn).await?.rows_affected();
    tracing::info!(
        step = sql.split_whitespace().take(4).collect::<Vec<_>>().join(" "),
        rows = n,
        ms = started.elapsed().as_millis() as u64,
        "bulk load step"
    );
    Ok(n)
}

/// The finish itself, on `conn` (which holds the load's advisory lock).
async fn run(finisher: &Finisher, mut conn: PgConnection, load_id: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    let row = load(&mut conn, load_id, "").await?.ok_or_else(|| anyhow::anyhow!("the load disappeared"))?;
    if row.state == FINISHED {
        // Another replica finished it between our read and our lock.
        return Ok(());
    }
    let stage = row.stage_table.clone();
    let next = next_table(&stage);
    // Sorts and hashes of the big statements below: PostgreSQL's memory, not this process's. Index builds get
    // one parallel worker (the leader is the other process; the machine may have two cores) and enough memory
    // between them to sort 10M keys without spilling to disk.
    exec(&mut conn, "SET work_mem = '256MB'").await?;
    exec(&mut conn, "SET maintenance_work_mem = '2GB'").await?;
    exec(&mut conn, "SET max_parallel_maintenance_workers = 1").await?;
    // What an earlier run of this finish left (it failed after building some of it): the run starts over.
    create_next(&mut conn, &next).await?;
    exec(&mut conn, &format!("DROP INDEX IF EXISTS {next}_key, {next}_pk, {next}_content")).await?;
    exec(
        &mut conn,
        &format!(
            "ALTER TABLE {next} DROP CONSTRAINT IF EXISTS {next}_actor_fk, DROP CONSTRAINT IF EXISTS {next}_content_fk"
        ),
    )
    .await?;
    // Credits staged with their IMDb ids (not in the staging replica's map) move from the stage into the new
    // table, once each: what stays in the stage names an unknown actor or title.
    exec(
        &mut conn,
        &format!(
            "WITH moved AS ( \
                 DELETE FROM {stage} s USING actors a, content c \
                 WHERE a.imdb_id = s.actor_imdb_id AND c.imdb_id = s.content_imdb_id \
                 RETURNING s.id, a.id AS actor_id, c.id AS content_id, s.role_name, s.characters, s.category, \
                           s.credit_order) \
             INSERT INTO {next} ({}) \
             SELECT id, actor_id, content_id, role_name, string_to_array(characters, chr(31)), category, \
                    credit_order FROM moved",
            copy::CREDIT_COLUMNS
        ),
    )
    .await?;
    let left: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {stage}")).fetch_one(&mut conn).await?;
    let rejected_count = u64::try_from(left).unwrap_or(0);
    let staged = u64::try_from(row.staged).unwrap_or(0);
    let written = staged.saturating_sub(rejected_count);
    let mut listed: Vec<Listed> = vec![];
    if rejected_count > 0 {
        let rows: Vec<(i64, String, String, bool)> = sqlx::query_as(&format!(
            "SELECT s.line, s.actor_imdb_id, s.content_imdb_id, a.id IS NULL \
             FROM {stage} s LEFT JOIN actors a ON a.imdb_id = s.actor_imdb_id \
             ORDER BY s.line LIMIT {MAX_LISTED}"
        ))
        .fetch_all(&mut conn)
        .await?;
        listed = rows
            .into_iter()
            .map(|(line, actor, content, no_actor)| Listed {
                line: u64::try_from(line).unwrap_or(0),
                key: format!("{actor}/{content}"),
                reason: if no_actor { "unknown actor" } else { "unknown title" }.into(),
            })
            .collect();
    }
    // The natural key first: a key the file repeats across chunks fails it, and then keeps one row.
    let key_index = format!("CREATE UNIQUE INDEX {next}_key ON {next} (actor_id, content_id, role_name)");
    let mut duplicates = 0;
    if let Err(e) = exec(&mut conn, &key_index).await {
        if !is_unique_violation(&e) {
            return Err(e.into());
        }
        duplicates = exec(
            &mut conn,
            &format!(
                "DELETE FROM {next} n USING ( \
                     SELECT actor_id, content_id, role_name, max(id::text)::uuid AS keep FROM {next} \
                     GROUP BY actor_id, content_id, role_name HAVING count(*) > 1) d \
                 WHERE n.actor_id = d.actor_id AND n.content_id = d.content_id AND n.role_name = d.role_name \
                   AND n.id <> d.keep"
            ),
        )
        .await?;
        exec(&mut conn, &key_index).await?;
    }
    exec(&mut conn, &format!("CREATE UNIQUE INDEX {next}_pk ON {next} (id)")).await?;
    exec(&mut conn, &format!("CREATE INDEX {next}_content ON {next} (content_id, credit_order)")).await?;
    let foreign_keys = [("actor_fk", "actor_id", "actors"), ("content_fk", "content_id", "content")];
    for (name, column, table) in foreign_keys {
        exec(
            &mut conn,
            &format!(
                "ALTER TABLE {next} ADD CONSTRAINT {next}_{name} FOREIGN KEY ({column}) REFERENCES {table} (id) \
                 ON DELETE CASCADE NOT VALID"
            ),
        )
        .await?;
    }
    // From here on every write and every delete of an actor or title is checked against the new table. Before:
    // the credits were resolved from the two tables as they were when the load began, so unless something was
    // deleted from them since (migration 0005 counts it; a delete still running held the constraints back until
    // it committed), none names a missing row, and the loaded rows are validated after the swap, in the
    // background (PostgreSQL's way of adding a foreign key to a live table) instead of before it.
    let deletions: i64 =
        sqlx::query_scalar("SELECT deletions FROM bulk_loads WHERE id = $1").bind(load_id).fetch_one(&mut conn).await?;
    let validate_later = deletions == 0;
    let mut vanished = 0;
    for (name, column, table) in foreign_keys.into_iter().filter(|_| !validate_later) {
        let validate = format!("ALTER TABLE {next} VALIDATE CONSTRAINT {next}_{name}");
        if let Err(e) = exec(&mut conn, &validate).await {
            if !is_foreign_key_violation(&e) {
                return Err(e.into());
            }
            // An actor or title resolved while staging was deleted since: its credits go with it, as the
            // foreign key's ON DELETE CASCADE would have done.
            let gone = exec(
                &mut conn,
                &format!("DELETE FROM {next} n WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.id = n.{column})"),
            )
            .await?;
            tracing::warn!(gone, table, "credits of rows deleted during the load dropped");
            vanished += gone;
            exec(&mut conn, &validate).await?;
        }
    }

    let mut tx = conn.begin().await?;
    exec(&mut tx, "SET LOCAL lock_timeout = '30s'").await?;
    exec(&mut tx, "LOCK TABLE filmography IN ACCESS EXCLUSIVE MODE").await?;
    // Credits `UpsertBatch` wrote meanwhile (a TMDB job, say) stay; the load's own rows win a tie.
    let merged = exec(&mut tx, &format!("INSERT INTO {next} SELECT * FROM filmography ON CONFLICT DO NOTHING")).await?;
    exec(&mut tx, "DROP TABLE filmography").await?;
    for sql in [
        format!("ALTER TABLE {next} RENAME TO filmography"),
        format!("ALTER TABLE filmography ADD CONSTRAINT filmography_pkey PRIMARY KEY USING INDEX {next}_pk"),
        format!(
            "ALTER TABLE filmography ADD CONSTRAINT filmography_actor_id_content_id_role_name_key \
             UNIQUE USING INDEX {next}_key"
        ),
        format!("ALTER INDEX {next}_content RENAME TO filmography_content_idx"),
        format!("ALTER TABLE filmography RENAME CONSTRAINT {next}_actor_fk TO filmography_actor_id_fkey"),
        format!("ALTER TABLE filmography RENAME CONSTRAINT {next}_content_fk TO filmography_content_id_fkey"),
        format!("DROP TABLE {stage}"),
    ] {
        exec(&mut tx, &sql).await?;
    }
    // A first load touches nearly every actor and title: the other replicas re-read everything.
    if let Some((announce, _)) = &finisher.events {
        iknow_messaging::outbox::enqueue(&mut tx, &announce.reloaded()?).await?;
    }
    let written = written - duplicates - vanished;
    let rejected_count = rejected_count + vanished;
    sqlx::query(
        "UPDATE bulk_loads SET state = 'finished', credits_written = $2, duplicates = $3, rejected_count = $4, \
                rejected = $5, staged = $6, error = NULL, finished_at = now() WHERE id = $1",
    )
    .bind(load_id)
    .bind(i64::try_from(written).unwrap_or(i64::MAX))
    .bind(i64::try_from(duplicates).unwrap_or(i64::MAX))
    .bind(i64::try_from(rejected_count).unwrap_or(i64::MAX))
    .bind(sqlx::types::Json(&listed))
    .bind(row.staged)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM bulk_load_chunks WHERE load_id = $1").bind(load_id).execute(&mut *tx).await?;
    let committing = Instant::now();
    tx.commit().await?;
    tracing::info!(ms = committing.elapsed().as_millis() as u64, "bulk load swap committed");
    // Held until now so the index compactor keeps off the CPU the index builds above need (see
    // `index::compactor`); the catch-up below re-reads every row into the indexes and compacts them.
    finisher.resolvers.forget(load_id);
    // Published: what follows only speeds reads up, and a failure of it is no failure of the load.
    if let Err(e) = exec(&mut conn, "ANALYZE filmography").await {
        tracing::warn!(error = %e, "ANALYZE after a bulk load failed; autovacuum will do it");
    }
    if let Some((_, relay)) = &finisher.events {
        relay.wake();
    }
    tracing::info!(
        written,
        duplicates,
        rejected = rejected_count,
        merged,
        ms = started.elapsed().as_millis() as u64,
        "bulk credits load published"
    );
    let _ = sqlx::query("SELECT pg_advisory_unlock($1, hashtext($2))")
        .bind(LOCK_SPACE)
        .bind(load_id)
        .execute(&mut conn)
        .await;
    if validate_later {
        validate_foreign_keys(&mut conn).await;
    }
    let actors: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM actors").fetch_all(&mut conn).await.unwrap_or_default();
    let contents: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM content").fetch_all(&mut conn).await.unwrap_or_default();
    drop(conn);
    catch_up(finisher, &actors, &contents).await;
    Ok(())
}

/// Validates `filmography`'s foreign keys that are not yet (after a bulk load, or at start when a replica
/// stopped before it was done). Takes only a SHARE UPDATE EXCLUSIVE lock: reads and writes go on.
pub async fn validate_foreign_keys(conn: &mut PgConnection) {
    let pending: Vec<String> = match sqlx::query_scalar(
        "SELECT conname::text FROM pg_constraint \
         WHERE conrelid = 'filmography'::regclass AND contype = 'f' AND NOT convalidated ORDER BY conname",
    )
    .fetch_all(&mut *conn)
    .await
    {
        Ok(names) => names,
        Err(e) => {
            tracing::warn!(error = %e, "could not list filmography's foreign keys");
            return;
        }
    };
    for name in pending {
        match exec(conn, &format!("ALTER TABLE filmography VALIDATE CONSTRAINT {name}")).await {
            Ok(_) => tracing::info!(constraint = name, "foreign key validated after a bulk load"),
            Err(e) => tracing::error!(error = %e, constraint = name, "foreign key validation failed"),
        }
    }
}

/// Runs `step` up to four times, a second apart; false when it kept failing or the pool closed (the replica is
/// stopping: what is left is done by the next writes, the events, or the next start's index build).
async fn patiently<F, Fut>(finisher: &Finisher, what: &str, mut step: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    for attempt in 1..=4 {
        if finisher.pool.is_closed() {
            tracing::info!(what, "the replica is stopping: the catch-up after a bulk load ends here");
            return false;
        }
        match step().await {
            Ok(()) => return true,
            Err(e) if attempt < 4 => {
                tracing::warn!(error = %e, what, "catch-up step failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => tracing::error!(error = %e, what, "catch-up step failed; those rows stay stale until rewritten"),
        }
    }
    false
}

/// After a load: popularity of the whole catalogue (one statement per table: every row's score may move) and
/// every series' aggregated cast (`series_cast::refresh_all`), announced in the same transaction by a second `catalog.reloaded` (the other replicas re-read the scores);
/// then the cached entries of every row (both tiers, a chunk of ids at a time) and this replica's search index.
async fn catch_up(finisher: &Finisher, actors: &[Uuid], contents: &[Uuid]) {
    let started = Instant::now();
    let scored = patiently(finisher, "popularity", || async {
        let mut tx = finisher.pool.begin().await?;
        crate::popularity::refresh_all(&mut tx).await?;
        crate::series_cast::refresh_all(&mut tx).await?;
        if let Some((announce, _)) = &finisher.events {
            iknow_messaging::outbox::enqueue(&mut tx, &announce.reloaded()?).await?;
        }
        tx.commit().await?;
        if let Some((_, relay)) = &finisher.events {
            relay.wake();
        }
        Ok(())
    })
    .await;
    if !scored {
        return;
    }
    let popularity_ms = started.elapsed().as_millis() as u64;
    for chunk in actors.chunks(CATCH_UP_CHUNK) {
        finisher.cache.invalidate(chunk, &[]).await;
    }
    for chunk in contents.chunks(CATCH_UP_CHUNK) {
        finisher.cache.invalidate(&[], chunk).await;
    }
    if !patiently(finisher, "search index", || finisher.indexes.reload(&finisher.pool)).await {
        return;
    }
    tracing::info!(
        actors = actors.len(),
        contents = contents.len(),
        popularity_ms,
        ms = started.elapsed().as_millis() as u64,
        "popularity, caches and search index caught up after a bulk load"
    );
}

/// Polls `finish` until the load is finished (tests and tools), at most `patience`.
pub async fn finish_and_wait(
    finisher: &Finisher,
    load_id: &str,
    patience: Duration,
) -> Result<CreditsLoadState, Error> {
    let deadline = Instant::now() + patience;
    loop {
        let state = finish(finisher, load_id).await?;
        if state.state == FINISHED || Instant::now() > deadline {
            return Ok(state);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_repeated_in_a_chunk_keeps_its_last_line_in_chunk_order() {
        let credit = |actor: &str, content: &str, character: &str| {
            let mut rejected = vec![];
            let input = iknow_proto::catalog::v1::CreditInput {
                actor_imdb_id: actor.into(),
                content_imdb_id: content.into(),
                category: "actor".into(),
                characters: vec![character.into()],
                credit_order: 0,
            };
            prepare::credits(vec![input], &mut rejected).remove(0)
        };
        let rows = vec![
            (2, credit("nm2", "tt1", "Neo")),
            (3, credit("nm1", "tt1", "Trinity")),
            (4, credit("nm2", "tt1", "Neo")),
            (5, credit("nm2", "tt1", "Thomas")),
        ];
        let kept: Vec<u64> = last_of_each_key(&rows).into_iter().map(|(line, _)| *line).collect();
        assert_eq!(kept, [3, 4, 5]);
        let distinct = &rows[1..];
        assert_eq!(last_of_each_key(distinct).len(), 3);
    }
}

//! The `[ingest]` configuration section.

use iknow_common::secret::Secret;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// Settings of the scraper-ingest service (section `[ingest]` of config/default.toml). Every key has its
/// default there, and only there: that file is compiled into every binary (`iknow_common::config::DEFAULTS`)
/// under any configuration file and `IKNOW__INGEST__*` variable, so the section always carries every key.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// Address the gRPC server binds (port 0 picks a free one).
    pub grpc_addr: String,
    /// PostgreSQL URL of the ingest database (`scrape_jobs`, `outbox`); created when missing.
    pub database_url: Secret,
    /// Upper bound of the connection pool.
    pub database_max_connections: u32,
    /// RabbitMQ URL of the job queues (consumer and outbox relay). Never logged: it carries a password.
    pub amqp_url: Secret,
    /// gRPC URL of the actor-catalog service the workers write through (`UpsertBatch`).
    pub catalog_url: String,
    /// Deadline of one `UpsertBatch` call, in milliseconds.
    pub catalog_timeout_ms: u64,
    /// Deadline of opening a connection to the catalogue, in milliseconds.
    pub catalog_connect_timeout_ms: u64,
    /// Tries of one batch while the catalogue is briefly unavailable, before the attempt fails (and the job is
    /// retried through the queue).
    pub catalog_tries: u32,
    /// Prepended to every queue name (`{prefix}scrape.jobs`, ...); tests use a unique one.
    pub queue_prefix: String,
    /// Jobs one consumer runs at once: the channel's prefetch and the number of worker slots.
    pub prefetch: u16,
    /// Attempts of a job before it goes to the dead-letter queue.
    pub max_attempts: u32,
    /// Delay before the first retry, in milliseconds; doubled per further failure (with jitter).
    pub retry_base_ms: u64,
    /// Longest delay between two attempts, in milliseconds.
    pub retry_max_ms: u64,
    /// How long a message of a job another worker is running waits before it is looked at again (ms).
    pub busy_recheck_ms: u64,
    /// A running job's lease, renewed about every second; a worker that stops renewing it (crashed) loses the
    /// job to the next delivery after this many seconds.
    pub lease_seconds: u64,
    /// Rows per `UpsertBatch` call (one checkpoint per batch).
    pub batch_size: usize,
    /// `UpsertBatch` calls in flight at once per job.
    pub concurrency: usize,
    /// A first import (into a catalogue without credits) stages its credits file and has the catalogue
    /// publish it at once (`BeginCreditsLoad`/`StageCredits`/`FinishCreditsLoad`), ~10x faster than batches.
    pub bulk_first_load: bool,
    /// Credits per `StageCredits` call (one checkpoint per chunk).
    pub bulk_chunk: usize,
    /// Run the consumer (off for a replica that only answers gRPC; the outbox relay always runs).
    pub worker_enabled: bool,
    /// Base URL of the TMDB v3-compatible API the `tmdb_*` jobs read (paths such as `/person/31` follow it).
    pub tmdb_base_url: String,
    /// Base URL of TMDB's images: a person's `profile_path` and a title's `poster_path` are appended to it to
    /// make the catalogue's photo and poster URLs (an absolute http(s) URL; anything else sends none).
    pub tmdb_image_base_url: String,
    /// A PEM file of certificates to trust for HTTPS to `tmdb_base_url` beside the built-in webpki roots (a
    /// private mirror's CA, a test server's self-signed certificate). Unset or empty: the webpki roots only.
    pub tmdb_ca_file: Option<PathBuf>,
    /// TMDB API key, sent as the `api_key` query parameter. Never logged.
    pub tmdb_api_key: Secret,
    /// Requests per second to TMDB across every job of this worker.
    pub tmdb_requests_per_second: u32,
    /// Deadline of one TMDB request, in milliseconds (a timeout is retried).
    pub tmdb_timeout_ms: u64,
    /// Tries of one TMDB request (429, 5xx, timeouts) before the attempt fails and the job is retried.
    pub tmdb_tries: u32,
    /// Pause before the second try of a TMDB request (ms), doubled per further try (with jitter); a 429's
    /// Retry-After replaces it.
    pub tmdb_retry_base_ms: u64,
    /// Most credits one job follows: a person's acting credits, a title's cast (in billing order).
    pub tmdb_max_credits: usize,
}

impl Config {
    /// A configuration for tests: any free port, a small pool, the given database and catalogue, the shared
    /// broker (`IKNOW_TEST_AMQP`), queues under `queue_prefix`, short delays.
    pub fn for_tests(database_url: &str, catalog_url: &str, queue_prefix: &str) -> Self {
        Self {
            grpc_addr: "127.0.0.1:0".into(),
            database_url: database_url.into(),
            database_max_connections: 5,
            amqp_url: std::env::var("IKNOW_TEST_AMQP")
                .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
                .into(),
            catalog_url: catalog_url.into(),
            catalog_timeout_ms: 30_000,
            catalog_connect_timeout_ms: 1_000,
            catalog_tries: 2,
            queue_prefix: queue_prefix.into(),
            prefetch: 2,
            max_attempts: 3,
            retry_base_ms: 100,
            retry_max_ms: 1_000,
            busy_recheck_ms: 500,
            lease_seconds: 10,
            batch_size: 500,
            concurrency: 2,
            bulk_first_load: true,
            bulk_chunk: 1_000,
            worker_enabled: true,
            // A dead address until a test points it at its mock TMDB server.
            tmdb_base_url: "http://127.0.0.1:9".into(),
            tmdb_image_base_url: "https://image.tmdb.org/t/p/original".into(),
            tmdb_ca_file: None,
            tmdb_api_key: Secret::default(),
            tmdb_requests_per_second: 40,
            tmdb_timeout_ms: 2_000,
            tmdb_tries: 3,
            tmdb_retry_base_ms: 50,
            tmdb_max_credits: 200,
        }
    }

    pub fn catalog_timeout(&self) -> Duration {
        Duration::from_millis(self.catalog_timeout_ms.max(1))
    }

    pub fn catalog_connect_timeout(&self) -> Duration {
        Duration::from_millis(self.catalog_connect_timeout_ms.max(1))
    }

    pub fn tmdb_timeout(&self) -> Duration {
        Duration::from_millis(self.tmdb_timeout_ms.max(1))
    }

    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_seconds.max(2))
    }

    /// The work queue every job message goes to.
    pub fn work_queue(&self) -> String {
        format!("{}scrape.jobs", self.queue_prefix)
    }

    /// Where a job goes after its last failed attempt (or a failure retrying cannot fix).
    pub fn dead_queue(&self) -> String {
        format!("{}scrape.jobs.dead", self.queue_prefix)
    }

    /// Where a message of a job that another worker runs waits before it is looked at again.
    pub fn wait_queue(&self) -> String {
        format!("{}scrape.jobs.wait", self.queue_prefix)
    }

    /// Where the retry after the `failures`-th failed attempt waits (one queue per attempt, so a long delay
    /// never holds a short one behind it).
    pub fn retry_queue(&self, failures: u32) -> String {
        format!("{}scrape.jobs.retry.{}", self.queue_prefix, failures.max(1))
    }

    /// Every queue of the topology (tests delete them).
    pub fn queues(&self) -> Vec<String> {
        let mut queues = vec![self.work_queue(), self.dead_queue(), self.wait_queue()];
        queues.extend((1..self.max_attempts.max(2)).map(|n| self.retry_queue(n)));
        queues
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn default_section_deserialises() {
        let settings = iknow_common::config::Settings::load_with(None, []).unwrap();
        let c: super::Config = settings.section("ingest").unwrap();
        assert_eq!(c.work_queue(), "scrape.jobs");
        assert_eq!(c.dead_queue(), "scrape.jobs.dead");
        assert_eq!(c.retry_queue(2), "scrape.jobs.retry.2");
        assert_eq!(c.queues().len(), 3 + c.max_attempts as usize - 1);
        assert!(c.worker_enabled);
        assert_eq!(c.tmdb_requests_per_second, 40);
        assert!(c.tmdb_base_url.starts_with("https://api.themoviedb.org/"));
        assert_eq!(c.tmdb_image_base_url, "https://image.tmdb.org/t/p/original");
        assert_eq!(c.tmdb_ca_file.as_deref(), Some(std::path::Path::new("")), "none: the webpki roots only");
        let key = [("IKNOW__INGEST__TMDB_API_KEY".to_owned(), "tmdb-key-value".to_owned())];
        let keyed: super::Config =
            iknow_common::config::Settings::load_with(None, key).unwrap().section("ingest").unwrap();
        assert_eq!(keyed.tmdb_api_key.expose(), "tmdb-key-value");
        assert!(!format!("{keyed:?}").contains("tmdb-key-value"), "the key is never printed");
    }
}

//! Fresh planner statistics after bulk writes. A large import can outrun autovacuum: with statistics from
//! before the load PostgreSQL plans the batch reads as sequential scans (486 ms instead of 5 ms measured for
//! 100 filmographies on a freshly imported 3,000,000-credit catalogue). Once `analyze_after_rows` rows have
//! been written since the last run, the catalogue runs `ANALYZE` on its tables in the background, one run at
//! a time.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use sqlx::PgPool;

/// Counts written rows and starts `ANALYZE` past the threshold.
#[derive(Debug)]
pub struct Analyzer {
    /// Rows written between runs; 0 turns it off.
    threshold: u64,
    pending: AtomicU64,
    running: AtomicBool,
}

impl Analyzer {
    pub fn new(threshold: u64) -> Arc<Self> {
        Arc::new(Self { threshold, pending: AtomicU64::new(0), running: AtomicBool::new(false) })
    }

    /// Records `rows` written; past the threshold (and with no run going) analyses the tables in the
    /// background. Never fails the write that triggered it.
    pub fn wrote(self: &Arc<Self>, rows: u64, pool: &PgPool) {
        if self.threshold == 0 || rows == 0 {
            return;
        }
        let total = self.pending.fetch_add(rows, Ordering::SeqCst) + rows;
        if total < self.threshold || self.running.swap(true, Ordering::SeqCst) {
            return;
        }
        self.pending.store(0, Ordering::SeqCst);
        let (this, pool) = (self.clone(), pool.clone());
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            match sqlx::query("ANALYZE actors, content, filmography").execute(&pool).await {
                Ok(_) => tracing::info!(
                    rows_since_last = total,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "catalogue tables analysed"
                ),
                Err(e) => tracing::warn!(error = %e, "ANALYZE of the catalogue tables failed"),
            }
            this.running.store(false, Ordering::SeqCst);
        });
    }
}

//! SQL of the library: every statement the service runs, one submodule per table or concern. Every statement
//! on a user's rows is scoped by `user_id`: a row of another user is never read, changed nor deleted (it is
//! simply not found). Each function answers [`iknow_common::Error`] (a database that cannot be reached is
//! `Unavailable`, any other failure `Internal`), so callers use `?`.

mod history;
mod seen;
mod snapshot;
mod user;
mod watchlist;

use chrono::{DateTime, Utc};

pub use history::{EntryRow, Recorded, delete_entry, list_entries, record_view, replayed_view};
pub use seen::{SeenRow, SeenTitle, Versions, seen, seen_titles, versions};
pub use snapshot::{Summary, is_stored, store_summary};
pub use user::{erase, everything};
pub use watchlist::{ItemRow, delete_item, insert_item, item, list_items, update_item};

use snapshot::SUMMARY_COLUMNS;

/// RFC 3339 in UTC with `Z`, fractional seconds only when there are some.
pub fn time(t: DateTime<Utc>) -> String {
    iknow_common::time::rfc3339(t)
}

/// The SQL direction of a list: descending by default, ascending the exact mirror (every key, tie-breakers
/// included, reversed), so page `offset` of one is page `total - offset - limit` of the other, reversed.
fn direction(ascending: bool) -> &'static str {
    if ascending { "ASC" } else { "DESC" }
}

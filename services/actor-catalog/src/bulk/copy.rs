//! The two COPY formats of a bulk load: PostgreSQL's binary format for credits resolved in the catalogue's
//! memory (straight into the load's new table: no text parsing of uuids, integers and arrays on the server,
//! about half its CPU per row), and the text format for the few staged with their IMDb ids.

use uuid::Uuid;

use crate::prepare::{CreditRow, SEP};

/// Appends one field of COPY's text format.
pub fn text_field(out: &mut String, value: &str) {
    for ch in value.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// Stage rows in COPY text (line, id, actor, title, role, characters, category, order).
pub fn stage_rows<'a>(rows: impl ExactSizeIterator<Item = (u64, &'a CreditRow)>) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(rows.len() * 96);
    for (line, r) in rows {
        let _ = write!(out, "{line}\t{}\t", iknow_common::id::new());
        for field in [&r.actor_imdb_id, &r.content_imdb_id, &r.role_name, &r.characters, &r.category] {
            text_field(&mut out, field);
            out.push('\t');
        }
        match r.credit_order {
            Some(o) => {
                let _ = writeln!(out, "{o}");
            }
            None => out.push_str("\\N\n"),
        }
    }
    out
}

/// The columns [`credit_rows`] writes, in its order.
pub const CREDIT_COLUMNS: &str = "id, actor_id, content_id, role_name, characters, category, credit_order";

/// OID of `text`, the element type of `characters` (`text[]`), which binary array input checks.
const TEXT_OID: i32 = 25;

/// Rows of PostgreSQL's binary COPY format (sql-copy.html, "Binary Format"): a signature and two zero
/// words, then per row a field count and per field its length (-1: NULL) and bytes, then -1.
struct Binary(Vec<u8>);

impl Binary {
    fn new(capacity: usize) -> Self {
        let mut out = Vec::with_capacity(capacity + 21);
        out.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        out.extend_from_slice(&0_i32.to_be_bytes()); // flags: no OIDs
        out.extend_from_slice(&0_i32.to_be_bytes()); // no header extension
        Self(out)
    }

    fn row(&mut self, fields: i16) {
        self.0.extend_from_slice(&fields.to_be_bytes());
    }

    fn len(&mut self, n: usize) {
        self.0.extend_from_slice(&i32::try_from(n).unwrap_or(i32::MAX).to_be_bytes());
    }

    fn uuid(&mut self, id: &Uuid) {
        self.len(16);
        self.0.extend_from_slice(id.as_bytes());
    }

    fn text(&mut self, s: &str) {
        self.len(s.len());
        self.0.extend_from_slice(s.as_bytes());
    }

    fn int4(&mut self, v: Option<i32>) {
        match v {
            Some(v) => {
                self.len(4);
                self.0.extend_from_slice(&v.to_be_bytes());
            }
            None => self.0.extend_from_slice(&(-1_i32).to_be_bytes()),
        }
    }

    /// A one-dimensional `text[]` (no NULL elements; empty: no dimension).
    fn text_array<'a>(&mut self, items: impl Iterator<Item = &'a str> + Clone) {
        let count = items.clone().count();
        let payload: usize = 12 + if count == 0 { 0 } else { 8 } + items.clone().map(|s| 4 + s.len()).sum::<usize>();
        self.len(payload);
        self.0.extend_from_slice(&i32::from(count > 0).to_be_bytes()); // dimensions
        self.0.extend_from_slice(&0_i32.to_be_bytes()); // no NULLs
        self.0.extend_from_slice(&TEXT_OID.to_be_bytes());
        if count > 0 {
            self.len(count);
            self.0.extend_from_slice(&1_i32.to_be_bytes()); // lower bound
            for s in items {
                self.text(s);
            }
        }
    }

    fn finish(mut self) -> Vec<u8> {
        self.0.extend_from_slice(&(-1_i16).to_be_bytes());
        self.0
    }
}

/// Credits with their uuids, as binary COPY of [`CREDIT_COLUMNS`] (each gets a new id).
pub fn credit_rows<'a>(rows: impl ExactSizeIterator<Item = ((Uuid, Uuid), &'a CreditRow)>) -> Vec<u8> {
    let mut out = Binary::new(rows.len() * 120);
    for ((actor_id, content_id), r) in rows {
        out.row(7);
        out.uuid(&iknow_common::id::new());
        out.uuid(&actor_id);
        out.uuid(&content_id);
        out.text(&r.role_name);
        out.text_array(r.characters.split(SEP).filter(|s| !s.is_empty()));
        out.text(&r.category);
        out.int4(r.credit_order);
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(characters: &str, order: Option<i32>) -> CreditRow {
        CreditRow {
            actor_imdb_id: "nm1".into(),
            content_imdb_id: "tt1".into(),
            category: "actor".into(),
            role_name: characters.split(SEP).next().unwrap_or_default().into(),
            characters: characters.into(),
            credit_order: order,
        }
    }

    #[test]
    fn text_escapes_what_copy_reads_specially() {
        let mut out = String::new();
        text_field(&mut out, "a\\b\tc\nd\re");
        assert_eq!(out, "a\\\\b\\tc\\nd\\re");
    }

    #[test]
    fn stage_rows_have_eight_fields_and_null_order() {
        let r = row(&format!("Neo{SEP}Tab\there"), None);
        let text = stage_rows([(7_u64, &r)].into_iter());
        let fields: Vec<&str> = text.trim_end_matches('\n').split('\t').collect();
        assert_eq!(fields.len(), 8, "{text:?}");
        assert_eq!(fields[0], "7");
        assert_eq!(fields[2..5], ["nm1", "tt1", "Neo"]);
        assert_eq!(fields[5], "Neo\u{1f}Tab\\there");
        assert_eq!(fields[7], "\\N");
    }

    #[test]
    fn binary_rows_follow_the_format() {
        let (a, c) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let full = row(&format!("Neo{SEP}Thomas"), Some(3));
        let bare = row("", None);
        let out = credit_rows([((a, c), &full), ((a, c), &bare)].into_iter());
        assert_eq!(&out[..11], b"PGCOPY\n\xff\r\n\0");
        assert_eq!(&out[out.len() - 2..], &[0xff, 0xff]);
        // Walk it as PostgreSQL does: every row has 7 fields whose lengths add up to the whole.
        let mut at = 19;
        let mut arrays = vec![];
        for _ in 0..2 {
            assert_eq!(i16::from_be_bytes([out[at], out[at + 1]]), 7);
            at += 2;
            for field in 0..7 {
                let n = i32::from_be_bytes(out[at..at + 4].try_into().unwrap());
                at += 4;
                if field == 4 {
                    arrays.push(out[at..at + n as usize].to_vec());
                }
                at += n.max(0) as usize;
            }
        }
        assert_eq!(at, out.len() - 2);
        let be = |v: i32| v.to_be_bytes().to_vec();
        let expected: Vec<u8> =
            [be(1), be(0), be(25), be(2), be(1), be(3), b"Neo".to_vec(), be(6), b"Thomas".to_vec()].concat();
        assert_eq!(arrays[0], expected);
        assert_eq!(arrays[1], [be(0), be(0), be(25)].concat(), "no characters: an empty array");
    }
}

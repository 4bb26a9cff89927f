//! The bulk first load of credits: the same catalogue as batch by batch, repeated keys kept once, rejected
//! credits with their lines, and a load stopped mid-file resumed without losing or doubling a credit.

use std::collections::BTreeSet;
use std::path::Path;

use crate::helpers::*;

type Credit = (String, String, String, Vec<String>, String, Option<i32>);

/// Every credit of a catalogue, by IMDb ids (the uuids differ between catalogues).
async fn credits(catalog: &TestCatalog) -> BTreeSet<Credit> {
    sqlx::query_as(
        "SELECT a.imdb_id, c.imdb_id, f.role_name, f.characters, f.category, f.credit_order \
         FROM filmography f JOIN actors a ON a.id = f.actor_id JOIN content c ON c.id = f.content_id",
    )
    .fetch_all(&catalog.pool)
    .await
    .unwrap()
    .into_iter()
    .collect()
}

async fn import(env: &Env, dir: &Path) -> iknow_proto::ingest::v1::Job {
    let app = env.start().await;
    let queued = app.enqueue(dir).await;
    let job = app.wait_for(&queued.id, "succeeded", 180).await;
    app.stop().await;
    job
}

/// The catalogue's indexes and constraints on `filmography`, by name.
async fn filmography_schema(catalog: &TestCatalog) -> Vec<String> {
    let mut names: Vec<String> = sqlx::query_scalar(
        "SELECT indexname::text FROM pg_indexes WHERE tablename = 'filmography' \
         UNION ALL SELECT conname::text FROM pg_constraint WHERE conrelid = 'filmography'::regclass",
    )
    .fetch_all(&catalog.pool)
    .await
    .unwrap();
    names.sort();
    names
}

#[tokio::test]
async fn a_bulk_first_load_writes_the_same_catalogue_as_batches() {
    let bulk = Env::new().await;
    let mut batches = Env::new().await;
    batches.config.bulk_first_load = false;
    let schema_before = filmography_schema(&bulk.catalog).await;
    let dir = sample_dir();
    let (a, b) = tokio::join!(import(&bulk, &dir), import(&batches, &dir));
    let (fa, fb) = (file(&a, "title.principals"), file(&b, "title.principals"));
    assert_eq!(counts(fa), counts(fb), "same counts: {fa:#?} {fb:#?}");
    assert_eq!(fa.rejections, fb.rejections, "same rejected lines");
    let (ca, cb) = (credits(&bulk.catalog).await, credits(&batches.catalog).await);
    assert_eq!(ca.len() as u64, fa.written);
    assert!(ca == cb, "same credits");
    assert_eq!(filmography_schema(&bulk.catalog).await, schema_before, "the swapped table has the same indexes");
    let loads: (String, i64) =
        sqlx::query_as("SELECT state, credits_written FROM bulk_loads").fetch_one(&bulk.catalog.pool).await.unwrap();
    assert_eq!(loads, ("finished".to_owned(), fa.written as i64));
    let stages: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'bulk_%'")
        .fetch_one(&bulk.catalog.pool)
        .await
        .unwrap();
    assert_eq!(stages, 2, "only bulk_loads and bulk_load_chunks are left");
    // The foreign keys hold after the swap: a credit of an unknown actor is refused by the database itself.
    let orphan = sqlx::query(
        "INSERT INTO filmography (id, actor_id, content_id, category) \
         SELECT gen_random_uuid(), gen_random_uuid(), id, 'actor' FROM content LIMIT 1",
    )
    .execute(&bulk.catalog.pool)
    .await;
    assert!(orphan.is_err(), "the actor foreign key is back");

    // A second import of the same files goes batch by batch and changes nothing.
    let again = import(&bulk, &sample_dir()).await;
    let f = file(&again, "title.principals");
    assert_eq!(f.written, 0, "{f:#?}");
    assert_eq!(f.unchanged, fa.written + fa.unchanged);
}

#[tokio::test]
async fn repeated_keys_across_chunks_are_kept_once_and_counts_stay_exact() {
    let dir = iknow_testkit::dataset::TempDir::new("bulk-dups");
    for name in ["title.basics.tsv", "name.basics.tsv"] {
        std::fs::copy(sample_dir().join(name), dir.path().join(name)).unwrap();
    }
    let principals = std::fs::read_to_string(sample_dir().join("title.principals.tsv")).unwrap();
    let mut lines: Vec<&str> = principals.lines().collect();
    // The first acting credit again at the very end (another chunk), and a credit of an unknown title.
    let first = *lines.iter().skip(1).find(|l| l.contains("\tactor\t") || l.contains("\tactress\t")).unwrap();
    let mut cols: Vec<&str> = first.split('\t').collect();
    lines.push(first);
    // The same actor and title in another role whose name needs quoting in an array literal.
    let mut quoted_cols = cols.clone();
    quoted_cols[5] = r#"["Dr. \"Doc\" Brown \\ Jr.","Narrator"]"#;
    let quoted = quoted_cols.join("\t");
    lines.push(&quoted);
    cols[0] = "tt99999999";
    let unknown = cols.join("\t");
    lines.push(&unknown);
    std::fs::write(dir.path().join("title.principals.tsv"), lines.join("\n") + "\n").unwrap();

    let env = Env::new().await;
    let job = import(&env, dir.path()).await;
    let f = file(&job, "title.principals");
    let in_catalogue = env.catalog.count("filmography").await as u64;
    assert_eq!(f.written, in_catalogue, "{f:#?}");
    assert_eq!(f.rows_read, f.written + f.unchanged + f.rejected + f.skipped, "every line counted once: {f:#?}");
    let last = lines.len() as u64;
    assert!(
        f.rejections.iter().any(|r| r.line == last && r.reason.contains("unknown title")),
        "the unknown title's line is reported: {:#?}",
        f.rejections
    );
    let dups: i64 = sqlx::query_scalar("SELECT duplicates FROM bulk_loads").fetch_one(&env.catalog.pool).await.unwrap();
    assert_eq!(dups, 1, "the repeated credit is kept once");
    let characters: Vec<String> = sqlx::query_scalar("SELECT characters FROM filmography WHERE role_name = $1")
        .bind(r#"Dr. "Doc" Brown \ Jr."#)
        .fetch_one(&env.catalog.pool)
        .await
        .unwrap();
    assert_eq!(characters, [r#"Dr. "Doc" Brown \ Jr."#, "Narrator"], "characters kept exactly");
}

//! Rebuilds the crate when a migration is added or changed: `sqlx::migrate!` embeds them at compile time, and
//! cargo would otherwise not notice a new `.sql` file beside unchanged Rust sources.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations/actor-catalog");
}

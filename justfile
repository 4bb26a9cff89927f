# I Know: common tasks. `just --list` shows them.

# Run the whole platform in one process (imports the sample when the catalogue is empty).
up *ARGS:
    scripts/up {{ARGS}}

# Every check: fmt, clippy, all tests, API fuzzing, the web app in a browser.
test:
    scripts/test

# Benchmark a running platform.
bench *ARGS:
    cargo run -p iknow -- bench {{ARGS}}

# Import an IMDb dataset directory into a running catalogue.
import DIR *ARGS:
    cargo run -p iknow -- import imdb {{DIR}} {{ARGS}}

# Format every crate.
fmt:
    cargo fmt --all

# Clippy with warnings as errors.
lint:
    cargo clippy --workspace --all-targets -- -D warnings

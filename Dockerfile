# syntax=docker/dockerfile:1.7
# One image per binary of the workspace, from one build of all of them:
#
#   docker build --build-arg BIN=actor-catalog -t iknow/actor-catalog:local .
#
# BIN is one of: actor-catalog, user-identity, library, scraper-ingest, gateway, iknow.
# The builder stage does not depend on BIN, so BuildKit builds the workspace once and every image reuses it;
# the cargo registry and target directory live in cache mounts, so a rebuild only compiles what changed.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS builder
WORKDIR /src
# protoc comes from the protoc-bin-vendored crate; sqlx macros (if any) read the committed .sqlx/ data.
ENV SQLX_OFFLINE=true \
    CARGO_TERM_COLOR=never
COPY . .
# The runtime stage copies these directories; create them so a checkout without one still builds.
RUN mkdir -p config data/sample web
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked --workspace --bins \
    && mkdir -p /out \
    && for bin in actor-catalog user-identity library scraper-ingest gateway iknow; do \
         cp "target/release/${bin}" /out/; \
       done

FROM debian:bookworm-slim AS runtime
ARG BIN=gateway
# No TLS library is linked (sqlx, redis, lapin and tonic are built without one), so the image needs no CA
# bundle; add ca-certificates here the day a TLS feature is turned on.
RUN groupadd --system --gid 10001 iknow \
    && useradd --system --uid 10001 --gid iknow --home-dir /app --no-create-home --shell /usr/sbin/nologin iknow
WORKDIR /app
# The gateway serves web/ (gateway.web_dir = "web", relative to /app); `iknow up` and the import job read
# data/sample/imdb; config/ holds the defaults (already compiled in) for reference and IKNOW_CONFIG overrides.
COPY --from=builder /src/config/ /app/config/
COPY --from=builder /src/data/sample/ /app/data/sample/
COPY --from=builder /src/web/ /app/web/
COPY --from=builder /out/${BIN} /usr/local/bin/${BIN}
# A fixed entrypoint name, since ENTRYPOINT's exec form cannot expand ARG.
RUN ln -s "/usr/local/bin/${BIN}" /usr/local/bin/iknow-entrypoint
ENV IKNOW__TELEMETRY__LOG_FORMAT=json
USER 10001:10001
# gateway 3000; actor-catalog 50051, user-identity 50052, library 50053, scraper-ingest 50054.
EXPOSE 3000 50051 50052 50053 50054
# Every binary handles SIGTERM itself (graceful drain), so it runs as PID 1 without an init.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/iknow-entrypoint"]

# shellcheck shell=bash
# Starts the whole platform for a browser run (sourced by scripts/e2e and scripts/lighthouse; run from the
# repository root with `set -euo pipefail`):
#   platform_start      the TMDB stand-in (e2e/fixtures-server.mjs) on a free port, then `iknow up` on five
#                       more with its own databases, Redis prefix, RabbitMQ exchanges and job queues, mail
#                       written as .eml files into a folder of its own; waits until it is healthy and has
#                       imported the bundled sample, then imports the stand-in's people (`iknow import tmdb
#                       --person nm…`: photos, birth dates, biographies, posters).
#   platform_cleanup    stops both and removes everything the run made (databases, Redis keys, exchanges and
#                       queues, the run's folder). Call it from an EXIT trap.
# After platform_start: BASE_URL, FIXTURES_URL, MAIL_DIR, RUN_DIR, LOG_FILE are set. Needs target/debug/iknow
# (or IKNOW_BIN),
# node >= 20 and e2e/node_modules (platform_node_modules installs them).

PG_SERVER="${IKNOW_TEST_PG:-postgres://postgres@127.0.0.1:5432}"
REDIS_URL="${IKNOW_TEST_REDIS:-redis://127.0.0.1:6379}"
AMQP_URL="${IKNOW_TEST_AMQP:-amqp://guest:guest@127.0.0.1:5672/%2f}"
HEALTH_DEADLINE_SECONDS="${HEALTH_DEADLINE_SECONDS:-180}"
IMPORT_DEADLINE_SECONDS="${IMPORT_DEADLINE_SECONDS:-180}"
FIXTURES_API_KEY="e2e-fixture-key"
# The browser tests check behaviour, not latency: on a busy 2-core machine a sign-in (argon2) can take longer
# than the gateway's default 800 ms deadline, which would fail a test with a 503.
DOWNSTREAM_TIMEOUT_MS="${DOWNSTREAM_TIMEOUT_MS:-5000}"
# The binary under test (another build of the platform when set).
IKNOW_BIN="${IKNOW_BIN:-target/debug/iknow}"

PLATFORM_PID=""
FIXTURES_PID=""
RUN_DIR=""
SUFFIX=""
DBS=()

# e2e/node_modules from the lockfile (playwright-core, axe-core, typescript, amqplib) when missing or stale.
platform_node_modules() {
    if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' 2>/dev/null; then
        echo "the browser tests need node >= 20 and npm (found: $(node --version 2>/dev/null || echo none))" >&2
        return 1
    fi
    if [ ! -d e2e/node_modules/playwright-core ] || [ ! -d e2e/node_modules/amqplib ] ||
        [ e2e/package-lock.json -nt e2e/node_modules/.package-lock.json ]; then
        # playwright-core never downloads browsers; the variable makes sure nothing else does either.
        (cd e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
    fi
}

platform_start() {
    # Six free loopback ports, bound together so they differ, released just before they are bound again.
    local ports
    ports="$(python3 -c '
import socket
socks = [socket.socket() for _ in range(6)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks: s.close()')"
    read -r GW_PORT CAT_PORT ID_PORT LIB_PORT ING_PORT FIX_PORT <<<"$ports"
    SUFFIX="$(python3 -c 'import uuid; print(uuid.uuid4().hex[:12])')"
    RUN_DIR="$(mktemp -d -t iknow-platform.XXXXXX)"
    MAIL_DIR="${RUN_DIR}/mail"
    LOG_FILE="${RUN_DIR}/platform.log"
    mkdir -p "$MAIL_DIR"
    DB_NAME="iknow_e2e_${SUFFIX}"
    DBS=("$DB_NAME" "iknow_e2e_identity_${SUFFIX}" "iknow_e2e_library_${SUFFIX}" "iknow_e2e_ingest_${SUFFIX}")
    REDIS_PREFIX="iknow:e2e:${SUFFIX}:"
    # Exchanges and durable queues of this run only: two runs at once never take each other's mails, account
    # deletions or jobs (platform_cleanup deletes them).
    BROKER_PREFIX="iknow-e2e-${SUFFIX}"

    node e2e/fixtures-server.mjs --port "$FIX_PORT" --api-key "$FIXTURES_API_KEY" --people \
        >"${RUN_DIR}/fixtures.out" 2>"${RUN_DIR}/fixtures.err" &
    FIXTURES_PID=$!
    local deadline=$((SECONDS + 20))
    until [ -s "${RUN_DIR}/fixtures.out" ] && [ "$(wc -l <"${RUN_DIR}/fixtures.out")" -gt 1 ]; do
        if ! kill -0 "$FIXTURES_PID" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
            echo "the TMDB stand-in did not start:" >&2
            cat "${RUN_DIR}/fixtures.err" >&2
            return 1
        fi
        sleep 0.2
    done
    FIXTURES_URL="http://127.0.0.1:$(head -n1 "${RUN_DIR}/fixtures.out")"
    mapfile -t FIXTURE_PEOPLE < <(tail -n +2 "${RUN_DIR}/fixtures.out")
    BASE_URL="http://127.0.0.1:${GW_PORT}"

    echo "platform on ${BASE_URL} (databases iknow_e2e_*_${SUFFIX}), TMDB stand-in on ${FIXTURES_URL}"
    IKNOW__GATEWAY__HTTP_ADDR="127.0.0.1:${GW_PORT}" \
    IKNOW__CATALOG__GRPC_ADDR="127.0.0.1:${CAT_PORT}" \
    IKNOW__IDENTITY__GRPC_ADDR="127.0.0.1:${ID_PORT}" \
    IKNOW__LIBRARY__GRPC_ADDR="127.0.0.1:${LIB_PORT}" \
    IKNOW__INGEST__GRPC_ADDR="127.0.0.1:${ING_PORT}" \
    IKNOW__CATALOG__DATABASE_URL="${PG_SERVER}/${DBS[0]}" \
    IKNOW__IDENTITY__DATABASE_URL="${PG_SERVER}/${DBS[1]}" \
    IKNOW__LIBRARY__DATABASE_URL="${PG_SERVER}/${DBS[2]}" \
    IKNOW__INGEST__DATABASE_URL="${PG_SERVER}/${DBS[3]}" \
    IKNOW__CATALOG__REDIS_PREFIX="${REDIS_PREFIX}catalog:" \
    IKNOW__GATEWAY__RATE_LIMIT_REDIS_PREFIX="${REDIS_PREFIX}ratelimit:" \
    IKNOW__GATEWAY__REVOCATION_REDIS_PREFIX="${REDIS_PREFIX}revoked:" \
    IKNOW__GATEWAY__RATE_LIMIT_ENABLED=false \
    IKNOW__GATEWAY__DOWNSTREAM_TIMEOUT_MS="${DOWNSTREAM_TIMEOUT_MS}" \
    IKNOW__LIBRARY__CATALOG_TIMEOUT_MS="${DOWNSTREAM_TIMEOUT_MS}" \
    IKNOW__GATEWAY__IMAGE_ORIGINS="${FIXTURES_URL}" \
    IKNOW__CATALOG__EVENTS_EXCHANGE="${BROKER_PREFIX}.catalog.events" \
    IKNOW__LIBRARY__CATALOG_EVENTS_EXCHANGE="${BROKER_PREFIX}.catalog.events" \
    IKNOW__IDENTITY__EVENTS_EXCHANGE="${BROKER_PREFIX}.identity.events" \
    IKNOW__LIBRARY__IDENTITY_EVENTS_EXCHANGE="${BROKER_PREFIX}.identity.events" \
    IKNOW__IDENTITY__NOTIFICATIONS_EXCHANGE="${BROKER_PREFIX}.notifications" \
    IKNOW__IDENTITY__MAIL_TRANSPORT=file \
    IKNOW__IDENTITY__MAIL_DIR="${MAIL_DIR}" \
    IKNOW__IDENTITY__PUBLIC_URL="${BASE_URL}" \
    IKNOW__INGEST__QUEUE_PREFIX="${BROKER_PREFIX}." \
    IKNOW__INGEST__TMDB_BASE_URL="${FIXTURES_URL}/3" \
    IKNOW__INGEST__TMDB_IMAGE_BASE_URL="${FIXTURES_URL}/t/p/original" \
    IKNOW__INGEST__TMDB_API_KEY="${FIXTURES_API_KEY}" \
    IKNOW__TELEMETRY__LOG_FORMAT=json \
        "$IKNOW_BIN" up >"$LOG_FILE" 2>&1 &
    PLATFORM_PID=$!

    deadline=$((SECONDS + HEALTH_DEADLINE_SECONDS))
    # Ready means healthy and done importing the sample (`iknow up` prints its banner after the import).
    until curl -fsS "${BASE_URL}/health" >/dev/null 2>&1 && grep -q "I Know is up" "$LOG_FILE"; do
        if ! kill -0 "$PLATFORM_PID" 2>/dev/null; then
            echo "the platform exited before it was healthy" >&2
            return 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "the platform was not healthy within ${HEALTH_DEADLINE_SECONDS}s" >&2
            return 1
        fi
        sleep 0.5
    done
    echo "healthy, sample imported"

    # The stand-in's people through the ingest's job queue, all at once; the command follows its job to the end.
    local pids=() nm failed=0
    for nm in "${FIXTURE_PEOPLE[@]}"; do
        IKNOW_INGEST_URL="http://127.0.0.1:${ING_PORT}" timeout "$IMPORT_DEADLINE_SECONDS" \
            "$IKNOW_BIN" import tmdb --person "$nm" >"${RUN_DIR}/import-${nm}.log" 2>&1 &
        pids+=($!)
    done
    for i in "${!pids[@]}"; do
        if ! wait "${pids[$i]}"; then
            failed=1
            echo "--- iknow import tmdb --person ${FIXTURE_PEOPLE[$i]} failed:" >&2
            tail -n 20 "${RUN_DIR}/import-${FIXTURE_PEOPLE[$i]}.log" >&2
        fi
    done
    [ "$failed" -eq 0 ] || return 1
    echo "imported ${#FIXTURE_PEOPLE[@]} people from the TMDB stand-in"
}

# Keeps the platform's log when the run failed (its path is printed); everything else goes.
platform_cleanup() {
    local rc="${1:-0}"
    if [ -n "$PLATFORM_PID" ] && kill -0 "$PLATFORM_PID" 2>/dev/null; then
        kill -TERM "$PLATFORM_PID" 2>/dev/null || true
        wait "$PLATFORM_PID" 2>/dev/null || true
    fi
    if [ -n "$FIXTURES_PID" ] && kill -0 "$FIXTURES_PID" 2>/dev/null; then
        kill -TERM "$FIXTURES_PID" 2>/dev/null || true
        wait "$FIXTURES_PID" 2>/dev/null || true
    fi
    for db in "${DBS[@]}"; do
        psql "${PG_SERVER}/postgres" -q -c "DROP DATABASE IF EXISTS \"${db}\" WITH (FORCE)" >/dev/null 2>&1 || true
    done
    if [ -n "$SUFFIX" ] && command -v redis-cli >/dev/null 2>&1; then
        redis-cli -u "$REDIS_URL" --scan --pattern "${REDIS_PREFIX}*" | xargs -r redis-cli -u "$REDIS_URL" del >/dev/null || true
    fi
    if [ -n "$SUFFIX" ] && [ -d e2e/node_modules/amqplib ]; then
        node e2e/broker-cleanup.mjs "$AMQP_URL" "$BROKER_PREFIX" || true
    fi
    if [ -n "$RUN_DIR" ] && [ -d "$RUN_DIR" ]; then
        if [ "$rc" -ne 0 ]; then
            echo "--- last platform log lines (${LOG_FILE}) ---"
            tail -n 40 "$LOG_FILE" 2>/dev/null | cut -c1-400 || true
        else
            rm -rf "$RUN_DIR"
        fi
    fi
}

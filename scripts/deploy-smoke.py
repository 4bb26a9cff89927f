#!/usr/bin/env python3
"""Runs docker-compose.yml's topology without Docker (scripts/validate-deploy --smoke).

Starts the compose file's iknow services from locally built binaries (target/debug by default), in depends_on
order, with the compose file's own environment, rewritten only where a container differs from this host:
service hostnames become 127.0.0.1, every bound port a free one, each service's database (iknow_catalog,
iknow_identity, iknow_library) a fresh one, the Redis prefixes and RabbitMQ exchanges unique ones; PostgreSQL,
Redis and RabbitMQ are the local ones. Each service must pass its compose
healthcheck (the very command, run with bash), the import-sample job must exit 0, the gateway's healthcheck must
pass and the API must find an actor of the sample, and every service must stop cleanly on SIGTERM.
"""

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN_DIR = Path(os.environ.get("IKNOW_BIN_DIR", ROOT / "target/debug"))
INFRA = {"postgres": 5432, "redis": 6379, "rabbitmq": 5672}
# The databases the compose file names; each gets a fresh one per run.
DATABASES = ("iknow_catalog", "iknow_identity", "iknow_library")
# The config section each binary reads.
SECTIONS = {"actor-catalog": "CATALOG", "user-identity": "IDENTITY", "library": "LIBRARY",
            "scraper-ingest": "INGEST", "gateway": "GATEWAY"}
DEADLINE_S = 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def interpolate(value: str) -> str:
    """Compose's ${VAR}, ${VAR:-default} and $$."""
    def sub(m: re.Match) -> str:
        name, default = m[1], m[3] or ""
        return os.environ.get(name) or default if m[2] else os.environ.get(name, "")
    return re.sub(r"\$\{(\w+)(:-([^}]*))?\}", sub, str(value)).replace("$$", "$")


def main() -> int:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    apps = {n: s for n, s in services.items() if (s.get("build") or {}).get("args", {}).get("BIN")}
    run_id = secrets.token_hex(4)
    database = f"iknow_smoke_{run_id}"
    prefix = f"iknow:smoke:{run_id}:"
    # user-identity publishes user.deleted where the library consumes it: both get this run's exchange (the
    # library's durable queue is named after it and deleted at the end, as is user-identity's mailer queue).
    exchanges = {"IKNOW__IDENTITY__EVENTS_EXCHANGE": f"iknow-smoke-{run_id}.identity.events",
                 "IKNOW__LIBRARY__IDENTITY_EVENTS_EXCHANGE": f"iknow-smoke-{run_id}.identity.events",
                 "IKNOW__IDENTITY__NOTIFICATIONS_EXCHANGE": f"iknow-smoke-{run_id}.notifications"}
    ports = {n: free_port() for n in apps}
    compose_port: dict[str, int] = {}  # the port each app binds inside its container
    for name, svc in apps.items():
        for value in (svc.get("environment") or {}).values():
            m = re.fullmatch(r"0\.0\.0\.0:(\d+)", str(value))
            if m:
                compose_port[name] = int(m[1])

    def rewrite(value: str) -> str:
        value = interpolate(value)
        m = re.fullmatch(r"0\.0\.0\.0:(\d+)", value)
        if m:
            owner = next(n for n, p in compose_port.items() if p == int(m[1]))
            return f"127.0.0.1:{ports[owner]}"

        def host(m: re.Match) -> str:
            h = m[1]
            if h in INFRA:
                return f"@127.0.0.1:{INFRA[h]}" if m[0].startswith("@") else f"//127.0.0.1:{INFRA[h]}"
            if h in apps:
                return f"//127.0.0.1:{ports[h]}"
            return m[0]
        value = re.sub(r"(?:@|//)([\w\-]+):\d+", host, value)
        for db in DATABASES:
            value = value.replace(f"/{db}", f"/{database}_{db.removeprefix('iknow_')}")
        value = value.replace("/app/data/sample/imdb", str(ROOT / "data/sample/imdb"))
        return value.replace("iknow:catalog:", prefix)

    def env_of(svc: dict) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("IKNOW")}
        env.update({k: rewrite(v) for k, v in (svc.get("environment") or {}).items()})
        # The gateway's revocation markers and rate-limit windows under this run's prefix, too.
        section = SECTIONS.get(svc["build"]["args"]["BIN"])
        if section == "GATEWAY":
            env.setdefault("IKNOW__GATEWAY__REVOCATION_REDIS_PREFIX", f"{prefix}revoked:")
            env.setdefault("IKNOW__GATEWAY__RATE_LIMIT_REDIS_PREFIX", f"{prefix}ratelimit:")
        env.update({k: v for k, v in exchanges.items() if k.split("__")[1] == section})
        return env

    confirmed: set[str] = set()  # services that passed their healthcheck, so have their signal handlers

    def healthy(name: str) -> bool:
        test = list(services[name]["healthcheck"]["test"])
        assert test[0] == "CMD", test
        test = [re.sub(r"127\.0\.0\.1/(\d+)", f"127.0.0.1/{ports[name]}", a) for a in test[1:]]
        if subprocess.run(test, capture_output=True, timeout=10).returncode == 0:
            confirmed.add(name)
            return True
        return False

    def wait(what: str, pred, proc=None) -> None:
        end = time.monotonic() + DEADLINE_S
        while time.monotonic() < end:
            if pred():
                print(f"    ok: {what}")
                return
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{what}: the process exited with {proc.returncode}")
            time.sleep(0.2)
        raise RuntimeError(f"{what}: not within {DEADLINE_S}s")

    for infra, port in INFRA.items():
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
    procs: dict[str, subprocess.Popen] = {}
    logs = Path(os.environ.get("TMPDIR", "/tmp")) / f"iknow-smoke-{run_id}"
    logs.mkdir(parents=True)
    started: list[str] = []
    failed = False
    try:
        pending = dict(apps)
        while pending:
            ready = [n for n, s in pending.items() if all(d not in pending for d in (s.get("depends_on") or {}))]
            if not ready:
                raise RuntimeError(f"depends_on cycle among {sorted(pending)}")
            for name in ready:
                svc = pending.pop(name)
                for dep, cond in (svc.get("depends_on") or {}).items():
                    condition = cond.get("condition") if isinstance(cond, dict) else "service_started"
                    if dep in apps and condition == "service_healthy":
                        wait(f"{dep} healthcheck", lambda d=dep: healthy(d), procs[dep])
                    elif dep in apps and condition == "service_completed_successfully":
                        procs[dep].wait(timeout=DEADLINE_S)
                        if procs[dep].returncode != 0:
                            raise RuntimeError(f"{dep} exited with {procs[dep].returncode}")
                binary = BIN_DIR / svc["build"]["args"]["BIN"]
                args = [str(binary)] + [rewrite(a) for a in svc.get("command") or []]
                out = open(logs / f"{name}.log", "w")
                procs[name] = subprocess.Popen(args, cwd=ROOT, env=env_of(svc), stdout=out, stderr=subprocess.STDOUT)
                started.append(name)
                print(f"    started {name}: {' '.join(args[:1] + args[1:])}")
        for name, svc in apps.items():
            if svc.get("restart") == "no":
                code = procs[name].wait(timeout=600)
                if code != 0:
                    raise RuntimeError(f"{name} exited with {code} (log: {logs}/{name}.log)")
                print(f"    ok: {name} completed")
        wait("gateway healthcheck (GET /health is 200)", lambda: healthy("gateway"), procs["gateway"])
        base = f"http://127.0.0.1:{ports['gateway']}"
        with urllib.request.urlopen(f"{base}/api/v1/actors/search?q=bruce+wilis", timeout=10) as r:
            body = r.read().decode()
            if r.status != 200 or "Bruce Willis" not in body:
                raise RuntimeError(f"search for the sample's Bruce Willis: {r.status} {body[:300]}")
        print("    ok: GET /api/v1/actors/search?q=bruce+wilis finds Bruce Willis")
        with urllib.request.urlopen(f"{base}/metrics", timeout=10) as r:
            if r.status != 200:
                raise RuntimeError(f"/metrics: {r.status}")
        print("    ok: GET /metrics")
    except Exception as e:  # noqa: BLE001 - report every failure the same way
        print(f"    FAILED: {e}")
        failed = True
    finally:
        for name in reversed(started):
            p = procs[name]
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    code = p.wait(timeout=20)
                    # A process stopped before it came up may die of the signal itself; that is no fault.
                    if code != 0 and not (code == -signal.SIGTERM and name not in confirmed):
                        print(f"    FAILED: {name} exited with {code} on SIGTERM")
                        failed = True
                except subprocess.TimeoutExpired:
                    p.kill()
                    print(f"    FAILED: {name} did not stop within 20s of SIGTERM")
                    failed = True
        for db in DATABASES:
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c",
                            f'DROP DATABASE IF EXISTS "{database}_{db.removeprefix("iknow_")}" WITH (FORCE)'],
                           capture_output=True)
        if shutil.which("rabbitmqctl"):
            for queue in (f"{exchanges['IKNOW__LIBRARY__IDENTITY_EVENTS_EXCHANGE']}.library.user-deleted",
                          f"{exchanges['IKNOW__IDENTITY__NOTIFICATIONS_EXCHANGE']}.mailer"):
                subprocess.run(["rabbitmqctl", "-q", "delete_queue", queue], capture_output=True, timeout=60)
        keys = subprocess.run(["redis-cli", "--scan", "--pattern", f"{prefix}*"], capture_output=True, text=True)
        if keys.stdout.split():
            subprocess.run(["redis-cli", "del", *keys.stdout.split()], capture_output=True)
    if failed:
        print(f"    logs: {logs}")
        return 1
    print("    ok: every service stopped cleanly on SIGTERM")
    shutil.rmtree(logs, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Offline consistency checks of the deployment files (run by scripts/validate-deploy).

The Dockerfile, docker-compose.yml, k8s/ and helm/iknow/ against the workspace: binaries built, config keys
(config/default.toml) behind every IKNOW__SECTION__KEY variable, ports, probes, selectors, references between
objects, and (when kubernetes_validate is importable) every k8s manifest against the Kubernetes OpenAPI schemas.
Prints one line per problem and exits 1 if there is any.
"""

import re
import sys
import tomllib
from pathlib import Path
from typing import NamedTuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
K8S_VERSIONS = ["1.28.0", "1.37.0"]
# The config section each component reads (config/default.toml), and its port.
SECTIONS = {"actor-catalog": "catalog", "user-identity": "identity", "library": "library",
            "scraper-ingest": "ingest", "gateway": "gateway"}
# Environment variables the binaries read besides IKNOW__SECTION__KEY.
OTHER_ENV = {"RUST_LOG", "RUST_BACKTRACE", "IKNOW_CONFIG"}
# The gateway's HTTP routes a probe may use (gateway: /health and /metrics outside /api/v1).
HTTP_PROBE_PATHS = {"/health", "/metrics"}
# Settings whose values are (or carry) credentials: in k8s and helm they come from a Secret, never a ConfigMap
# or a plain value, and every component sets each of these keys of its own section.
SECRET_SUFFIXES = ("_DATABASE_URL", "_REDIS_URL", "_AMQP_URL", "_JWT_SECRET")
# Settings two components must agree on: a token user-identity signs is verified by the gateway; the exchange
# user-identity publishes user.deleted to is the one the library consumes.
SHARED_SETTINGS = [("IKNOW__IDENTITY__JWT_SECRET", "IKNOW__GATEWAY__JWT_SECRET"),
                   ("IKNOW__IDENTITY__EVENTS_EXCHANGE", "IKNOW__LIBRARY__IDENTITY_EVENTS_EXCHANGE")]
# (a, b): a must be at least b. A revocation marker must outlive every access token it revokes.
AT_LEAST = [("IKNOW__GATEWAY__REVOCATION_TTL_SECONDS", "IKNOW__IDENTITY__ACCESS_TTL_SECONDS")]
# URLs a user's browser opens (the links of user-identity's mails), not services the components reach: they
# name the public host, never a Service or a compose service.
BROWSER_URLS = {"IKNOW__IDENTITY__PUBLIC_URL"}
# Settings every component may carry besides its own section.
GLOBAL_PREFIXES = ("IKNOW__ENVIRONMENT", "IKNOW__TELEMETRY__")
# docker-compose.yml feeds both JWT secrets from this one variable.
COMPOSE_JWT_VARIABLE = "IKNOW_JWT_SECRET"
IMAGE_RE = re.compile(r"^(?:[\w.\-:]+/)*iknow/(?P<bin>[a-z\-]+):[\w.\-${}:]+$")

problems: list[str] = []


def problem(where: str, msg: str) -> None:
    problems.append(f"{where}: {msg}")


def rel(p: Path) -> str:
    return str(p.relative_to(ROOT))


# ---------------------------------------------------------------------------------------------- workspace facts


def config_env_names() -> dict[str, object]:
    """Every IKNOW__SECTION__KEY (and IKNOW__KEY for top-level keys) with its default."""
    cfg = tomllib.loads((ROOT / "config/default.toml").read_text())
    names: dict[str, object] = {}
    for key, value in cfg.items():
        if isinstance(value, dict):
            for sub, v in value.items():
                names[f"IKNOW__{key.upper()}__{sub.upper()}"] = v
        else:
            names[f"IKNOW__{key.upper()}"] = value
    return names


def workspace_binaries() -> set[str]:
    """Binaries `cargo build --workspace --bins` produces: [[bin]] targets, or the package name with a main.rs."""
    ws = tomllib.loads((ROOT / "Cargo.toml").read_text())
    bins: set[str] = set()
    for member in ws["workspace"]["members"]:
        manifest = ROOT / member / "Cargo.toml"
        if not manifest.exists():
            continue
        pkg = tomllib.loads(manifest.read_text())
        explicit = pkg.get("bin", [])
        bins.update(b["name"] for b in explicit)
        if not explicit and (ROOT / member / "src/main.rs").exists():
            bins.add(pkg["package"]["name"])
    return bins


ENV_NAMES = config_env_names()
BINARIES = workspace_binaries()
# What each k8s Deployment's container gets (component -> variable -> Setting); helm is compared against it.
K8S_SETTINGS: dict[str, dict] = {}


def check_env_name(where: str, name: str) -> None:
    if name.startswith("IKNOW__"):
        if name not in ENV_NAMES:
            problem(where, f"{name} is not a key of config/default.toml")
    elif name not in OTHER_ENV:
        problem(where, f"{name} is not a configuration variable of the binaries")


def check_binary(where: str, name: str) -> None:
    if name not in BINARIES:
        problem(where, f"binary {name!r} is not built by the workspace (have: {', '.join(sorted(BINARIES))})")


def check_image(where: str, image: str) -> str | None:
    m = IMAGE_RE.match(image)
    if not m:
        problem(where, f"image {image!r} is not [registry/]iknow/<binary>:<tag>")
        return None
    check_binary(where, m["bin"])
    return m["bin"]


def addr_port(value: str) -> int | None:
    m = re.search(r":(\d+)$", str(value))
    return int(m[1]) if m else None


def url_host_port(value: str) -> tuple[str, int] | None:
    m = re.match(r"^https?://([\w.\-]+):(\d+)/?$", str(value))
    return (m[1], int(m[2])) if m else None


# ---------------------------------------------------------------------------------------------- settings


class Setting(NamedTuple):
    """Where a deployment takes one IKNOW__ variable from: a plain value (None: rendered by a template), or the
    key of a Secret."""

    value: str | None = None
    secret: tuple[str, str] | None = None

    def show(self, var: str) -> str:
        if self.secret:
            return f"Secret {self.secret[0]!r} key {self.secret[1]!r}"
        if var.endswith(SECRET_SUFFIXES):
            return "a plain value"  # never print a credential
        return repr(self.value)


def owner_of(var: str) -> str | None:
    """The component whose section `var` (IKNOW__SECTION__KEY) belongs to."""
    parts = var.split("__")
    if len(parts) != 3:
        return None
    return next((c for c, s in SECTIONS.items() if s == parts[1].lower()), None)


def check_own_section(where: str, comp: str, var: str) -> None:
    """A component is given only its own section's keys (and the global ones)."""
    section = SECTIONS.get(comp)
    if section and var.startswith("IKNOW__") and not var.startswith(GLOBAL_PREFIXES) \
            and not var.startswith(f"IKNOW__{section.upper()}__"):
        problem(where, f"{var} is not for {comp}, which reads only [{section}]")


def check_settings(flavour: str, comps: dict[str, dict[str, Setting]], secrets_required: bool) -> None:
    """What every component of one deployment flavour ends up with (comps: component -> variable -> Setting):
    each credential of its section set (from a Secret where secrets_required), no loopback URL, no
    development JWT secret, shared settings equal and ordered ones in order."""
    for comp, env in comps.items():
        prefix = f"IKNOW__{SECTIONS[comp].upper()}__"
        w = f"{flavour} {comp}"
        for var in (v for v in ENV_NAMES if v.startswith(prefix)):
            default, s = ENV_NAMES[var], env.get(var)
            credential = var.endswith(SECRET_SUFFIXES)
            if s is None:
                if credential and secrets_required:
                    problem(w, f"{var} is not set (it needs a key of the Secret)")
                elif var.endswith("_URL") and "127.0.0.1" in str(default):
                    problem(w, f"{var} is not set and defaults to loopback {default}")
                elif var.endswith("_JWT_SECRET"):
                    problem(w, f"{var} is not set: production refuses the development default")
                continue
            if credential and secrets_required and s.secret is None:
                problem(w, f"{var} is a credential but is {s.show(var)}, not a Secret key")
            if var.endswith("_URL") and s.value and "127.0.0.1" in s.value:
                problem(w, f"{var} points at loopback, which inside a container is the container itself")

    def effective(var: str) -> Setting | None:
        comp = owner_of(var)
        if comp not in comps:
            return None
        return comps[comp].get(var) or Setting(value=str(ENV_NAMES.get(var)))

    def describe(var: str, s: Setting) -> str:
        return s.show(var) if var in comps[owner_of(var)] else "unset: the default"

    for a, b in SHARED_SETTINGS:
        sa, sb = effective(a), effective(b)
        if sa and sb and sa != sb:
            problem(flavour, f"{a} ({describe(a, sa)}) and {b} ({describe(b, sb)}) must be one and the same setting")
    for a, b in AT_LEAST:
        sa, sb = effective(a), effective(b)
        if not (sa and sb and sa.value and sb.value) or "$" in sa.value + sb.value:
            continue
        try:
            if int(sa.value) < int(sb.value):
                problem(flavour, f"{a}={sa.value} must be at least {b}={sb.value}")
        except ValueError:
            problem(flavour, f"{a}={sa.value!r} or {b}={sb.value!r} is not a number")


# ---------------------------------------------------------------------------------------------- Dockerfile


def check_dockerfile() -> None:
    path = ROOT / "Dockerfile"
    text = path.read_text()
    m = re.search(r"for bin in ([\w\- ]+); do", text)
    if not m:
        problem("Dockerfile", "no `for bin in ...; do` loop copying the binaries")
    else:
        listed = set(m[1].split())
        for b in sorted(listed - BINARIES):
            problem("Dockerfile", f"copies binary {b!r} the workspace does not build")
        for b in sorted(BINARIES - listed):
            problem("Dockerfile", f"does not copy workspace binary {b!r}")
    m = re.search(r"^ARG BIN=([\w\-]+)$", text, re.M)
    if not m:
        problem("Dockerfile", "no `ARG BIN=<default>` in the runtime stage")
    else:
        check_binary("Dockerfile ARG BIN", m[1])
    for src in re.findall(r"^COPY --from=builder /src/(\S+?)/? ", text, re.M):
        if not (ROOT / src).exists():
            problem("Dockerfile", f"copies {src}/ which the repository does not have")
    # The slim runtime has neither OpenSSL nor a CA bundle: a TLS crate in the lock file needs them installed.
    locked = set(re.findall(r'^name = "([^"]+)"', (ROOT / "Cargo.lock").read_text(), re.M))
    for crate, package in (("openssl-sys", "libssl3"), ("rustls-native-certs", "ca-certificates"),
                           ("native-tls", "ca-certificates")):
        if crate in locked and package not in text:
            problem("Dockerfile", f"Cargo.lock has {crate}: the runtime stage must install {package}")
    ignored = [ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines()
               if ln.strip() and not ln.startswith("#")]
    needed = ["Cargo.toml", "Cargo.lock", "proto", "libs", "services", "gateway", "cli", "migrations", "config",
              "web", "data/sample"]
    for need in needed:
        excluded = False
        for pat in ignored:
            neg = pat.startswith("!")
            pat = pat.lstrip("!").rstrip("/")
            if need == pat or need.startswith(pat + "/") or (pat.endswith("/*") and need.startswith(pat[:-1])):
                excluded = not neg
        if excluded:
            problem(".dockerignore", f"excludes {need}, which the build needs")


# ---------------------------------------------------------------------------------------------- docker compose


def check_compose() -> None:
    path = ROOT / "docker-compose.yml"
    doc = yaml.safe_load(path.read_text())
    where = rel(path)
    services = doc.get("services", {})
    grpc_ports: dict[str, int] = {}
    for name, svc in services.items():
        w = f"{where} services.{name}"
        build_bin = (svc.get("build") or {}).get("args", {}).get("BIN")
        image_bin = check_image(w, svc["image"]) if "iknow/" in svc.get("image", "") else None
        if build_bin:
            check_binary(w, build_bin)
            if image_bin and image_bin != build_bin:
                problem(w, f"image names {image_bin} but builds BIN={build_bin}")
        is_app = bool(build_bin or image_bin)
        env = svc.get("environment") or {}
        if isinstance(env, list):
            env = dict(e.split("=", 1) for e in env)
        if is_app:
            for var in env:
                check_env_name(w, var)
            for var, value in env.items():
                if var.endswith("__GRPC_ADDR") or var.endswith("__HTTP_ADDR"):
                    if not str(value).startswith("0.0.0.0:"):
                        problem(w, f"{var}={value} must bind 0.0.0.0 inside a container")
                    grpc_ports[name] = addr_port(value) or 0
                    test = " ".join(svc.get("healthcheck", {}).get("test", []))
                    if str(grpc_ports[name]) not in test:
                        problem(w, f"healthcheck does not probe port {grpc_ports[name]} of {var}")
        for dep, cond in (svc.get("depends_on") or {}).items():
            if dep not in services:
                problem(w, f"depends_on unknown service {dep!r}")
                continue
            condition = cond.get("condition") if isinstance(cond, dict) else None
            if condition == "service_healthy" and "healthcheck" not in services[dep]:
                problem(w, f"waits for {dep} to be healthy but {dep} has no healthcheck")
            if condition == "service_completed_successfully" and services[dep].get("restart") not in ("no", None):
                problem(w, f"waits for {dep} to complete but {dep} restarts")
            if services[dep].get("profiles") and not svc.get("profiles"):
                problem(w, f"depends on {dep}, which only runs under a profile")
        for vol in svc.get("volumes") or []:
            src = str(vol).split(":")[0]
            if src.startswith("./") and not (ROOT / src).exists():
                problem(w, f"mounts {src}, which does not exist")
    # Every URL the gateway and the import job use must name a service and the port it binds.
    for name, svc in services.items():
        env = svc.get("environment") or {}
        urls = [(k, v) for k, v in env.items()
                if k.endswith("_URL") and k not in BROWSER_URLS and str(v).startswith("http")]
        cmd = svc.get("command") or []
        urls += [("--catalog", cmd[i + 1]) for i, a in enumerate(cmd) if a == "--catalog" and i + 1 < len(cmd)]
        for var, value in urls:
            hp = url_host_port(value)
            if not hp or hp[0] not in services or grpc_ports.get(hp[0]) != hp[1]:
                problem(f"{where} services.{name}", f"{var}={value} does not name a service and its bound port")
    binaries_run = {(s.get("build") or {}).get("args", {}).get("BIN") for s in services.values()}
    for b in BINARIES - binaries_run:
        problem(where, f"no service runs binary {b!r}")
    comps: dict[str, dict[str, Setting]] = {}
    for name, svc in services.items():
        binary = (svc.get("build") or {}).get("args", {}).get("BIN")
        env = {k: Setting(value=str(v)) for k, v in (svc.get("environment") or {}).items()}
        w = f"{where} services.{name}"
        if binary in SECTIONS:
            comps[binary] = env
            for var in env:
                check_own_section(w, binary, var)
        # Whatever an app connects to (another service, PostgreSQL, Redis, RabbitMQ) it waits for.
        for var, s in env.items():
            for host in re.findall(r"(?:@|//)([\w\-]+):\d+", s.value or ""):
                if host in services and host != name and host not in (svc.get("depends_on") or {}):
                    problem(w, f"{var} reaches {host}, which is not in depends_on")
        for var, s in env.items():
            if var.endswith("_JWT_SECRET") and f"${{{COMPOSE_JWT_VARIABLE}" not in (s.value or ""):
                problem(w, f"{var} must come from ${{{COMPOSE_JWT_VARIABLE}:-...}} (one variable, both JWT secrets)")
    check_settings(where, comps, secrets_required=False)


# ---------------------------------------------------------------------------------------------- kubernetes


def load_docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def matches(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in (selector or {}).items())


def pod_templates(objs: list[tuple[str, dict]]) -> list[tuple[str, dict, dict]]:
    out = []
    for where, o in objs:
        if o["kind"] in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
            tpl = o["spec"]["template"]
            out.append((where, o, tpl))
    return out


def check_schema(where: str, obj: dict) -> None:
    try:
        from kubernetes_validate import utils as kv
    except ImportError:
        return
    for version in K8S_VERSIONS:
        try:
            kv.validate(obj, version, strict=True)
        except kv.SchemaNotFoundError:
            problem(where, f"{obj['apiVersion']} {obj['kind']} is unknown to Kubernetes {version}")
        except kv.ValidationError as e:
            path = ".".join(str(p) for p in e.path)
            problem(where, f"Kubernetes {version} schema: {path}: {e.message}")


def check_k8s() -> None:
    objs: list[tuple[str, dict]] = []
    files = sorted((ROOT / "k8s").rglob("*.yaml"))
    kustomization = ROOT / "k8s/kustomization.yaml"
    for f in files:
        if f == kustomization:
            continue
        for i, d in enumerate(load_docs(f)):
            where = f"{rel(f)}#{i}"
            for field in ("apiVersion", "kind"):
                if not d.get(field):
                    problem(where, f"missing {field}")
            if not (d.get("metadata") or {}).get("name"):
                problem(where, "missing metadata.name")
                continue
            if d.get("kind") != "Namespace" and d["metadata"].get("namespace") != "iknow":
                problem(where, "metadata.namespace is not iknow")
            check_schema(where, d)
            objs.append((f"{rel(f)} {d['kind']}/{d['metadata']['name']}", d))
    listed = set(load_docs(kustomization)[0].get("resources", []))
    top = {f.name for f in (ROOT / "k8s").glob("*.yaml") if f != kustomization}
    for missing in sorted(top - listed):
        problem(rel(kustomization), f"does not list {missing}")
    for extra in sorted(listed - top):
        problem(rel(kustomization), f"lists {extra}, which does not exist")

    by_kind: dict[str, dict[str, dict]] = {}
    for _, o in objs:
        by_kind.setdefault(o["kind"], {})[o["metadata"]["name"]] = o
    configmaps, secrets = by_kind.get("ConfigMap", {}), by_kind.get("Secret", {})
    services, deployments = by_kind.get("Service", {}), by_kind.get("Deployment", {})
    pods = pod_templates(objs)

    for name, cm in configmaps.items():
        for var in cm.get("data", {}):
            check_env_name(f"ConfigMap/{name}", var)

    def container_ports(tpl: dict) -> dict:
        return {p.get("name"): p["containerPort"] for c in tpl["spec"]["containers"] for p in c.get("ports", [])}

    used_secret_keys: set[tuple[str, str]] = set()
    for where, o, tpl in pods:
        labels = tpl["metadata"].get("labels", {})
        if o["kind"] == "Deployment" and not matches(o["spec"]["selector"]["matchLabels"], labels):
            problem(where, "selector does not match the pod template's labels")
        for c in tpl["spec"]["containers"]:
            w = f"{where} container {c['name']}"
            binary = check_image(w, c["image"])
            ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
            env: dict[str, Setting] = {}
            for ref in c.get("envFrom", []):
                cm = ref.get("configMapRef", {}).get("name")
                if cm and cm not in configmaps:
                    problem(w, f"envFrom names ConfigMap {cm!r}, which no manifest defines")
                elif cm:
                    env.update({k: Setting(value=str(v)) for k, v in configmaps[cm].get("data", {}).items()})
            for e in c.get("env", []):
                check_env_name(w, e["name"])
                check_own_section(w, binary or "", e["name"])
                ref = (e.get("valueFrom") or {}).get("secretKeyRef")
                env[e["name"]] = Setting(secret=(ref["name"], ref["key"])) if ref else Setting(value=e.get("value"))
                if ref:
                    used_secret_keys.add((ref["name"], ref["key"]))
                if ref and ref["key"] not in secrets.get(ref["name"], {}).get("stringData", {}):
                    problem(w, f"{e['name']} reads key {ref['key']!r} missing from Secret {ref['name']!r}")
            section = SECTIONS.get(binary or "")
            if section and o["kind"] == "Deployment":
                K8S_SETTINGS[binary] = env
                addr_var = f"IKNOW__{section.upper()}__{'HTTP' if section == 'gateway' else 'GRPC'}_ADDR"
                for cm_ref in c.get("envFrom", []):
                    value = configmaps.get(cm_ref.get("configMapRef", {}).get("name"), {}).get("data", {})
                    if addr_var in value and addr_port(value[addr_var]) not in ports.values():
                        problem(w, f"{addr_var}={value[addr_var]} is not a containerPort")
            for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
                probe = c.get(kind)
                if not probe:
                    if o["kind"] == "Deployment":
                        problem(w, f"no {kind}")
                    continue
                port = (probe.get("grpc") or probe.get("httpGet") or probe.get("tcpSocket") or {}).get("port")
                if port not in ports and port not in ports.values():
                    problem(w, f"{kind} port {port!r} is not a container port")
                if "httpGet" in probe and probe["httpGet"]["path"] not in HTTP_PROBE_PATHS:
                    problem(w, f"{kind} path {probe['httpGet']['path']} is not a gateway endpoint")
            res = c.get("resources", {})
            if not res.get("requests") or not res.get("limits"):
                problem(w, "needs resource requests and limits")
            for url_arg in [c.get("args", [])[i + 1] for i, a in enumerate(c.get("args", [])) if a == "--catalog"]:
                hp = url_host_port(url_arg)
                if not hp or hp[0] not in services:
                    problem(w, f"--catalog {url_arg} does not name a Service")

    check_settings("k8s", K8S_SETTINGS, secrets_required=True)
    for name, secret in secrets.items():
        for key in secret.get("stringData", {}):
            if (name, key) not in used_secret_keys:
                problem(f"Secret/{name}", f"key {key!r} is read by no container")

    def pods_selected(selector: dict) -> list[tuple[str, dict, dict]]:
        return [p for p in pods if matches(selector, p[2]["metadata"].get("labels", {}))]

    for name, svc in services.items():
        selected = pods_selected(svc["spec"]["selector"])
        if not selected:
            problem(f"Service/{name}", "selector matches no pod template")
            continue
        for p in svc["spec"]["ports"]:
            tp = p.get("targetPort", p["port"])
            for where, _, tpl in selected:
                if tp not in container_ports(tpl) and tp not in container_ports(tpl).values():
                    problem(f"Service/{name}", f"targetPort {tp!r} is not a port of {where}")
    for name, cm in configmaps.items():
        for var, value in cm.get("data", {}).items():
            hp = url_host_port(value) if var.endswith("_URL") else None
            if var.endswith("_URL") and var not in BROWSER_URLS and str(value).startswith("http"):
                ports = [p["port"] for p in services.get(hp[0], {}).get("spec", {}).get("ports", [])] if hp else []
                if not hp or hp[1] not in ports:
                    problem(f"ConfigMap/{name}", f"{var}={value} does not name a Service port")
    for name, hpa in by_kind.get("HorizontalPodAutoscaler", {}).items():
        target = hpa["spec"]["scaleTargetRef"]["name"]
        if target not in deployments:
            problem(f"HorizontalPodAutoscaler/{name}", f"targets unknown Deployment {target!r}")
        elif "replicas" in deployments[target]["spec"]:
            problem(f"Deployment/{target}", "sets replicas although an HPA owns the count")
    for name in ("gateway", "actor-catalog"):
        if not any(h["spec"]["scaleTargetRef"]["name"] == name for h in by_kind.get("HorizontalPodAutoscaler", {}).values()):
            problem("k8s", f"no HorizontalPodAutoscaler for {name}")
    for name in deployments:
        if not any(pods_selected(pdb["spec"]["selector"]["matchLabels"]) and
                   matches(pdb["spec"]["selector"]["matchLabels"], deployments[name]["spec"]["template"]["metadata"]["labels"])
                   for pdb in by_kind.get("PodDisruptionBudget", {}).values()):
            problem(f"Deployment/{name}", "no PodDisruptionBudget selects its pods")
    for name, np in by_kind.get("NetworkPolicy", {}).items():
        sel = np["spec"]["podSelector"].get("matchLabels")
        if sel is not None and not pods_selected(sel):
            problem(f"NetworkPolicy/{name}", "podSelector matches no pod template")
        for rule in np["spec"].get("ingress", []):
            for peer in rule.get("from", []):
                ps = (peer.get("podSelector") or {}).get("matchLabels")
                if ps is not None and not pods_selected(ps):
                    problem(f"NetworkPolicy/{name}", f"from podSelector {ps} matches no pod template")
            for port in rule.get("ports", []):
                if not any(port["port"] in container_ports(t) for _, _, t in pods_selected(sel or {})):
                    problem(f"NetworkPolicy/{name}", f"port {port['port']!r} is no port of the selected pods")
    for name, ing in by_kind.get("Ingress", {}).items():
        for rule in ing["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                svc = services.get(backend["name"])
                port_names = [p.get("name") for p in svc["spec"]["ports"]] if svc else []
                if not svc or backend["port"].get("name", "") not in port_names + [""]:
                    problem(f"Ingress/{name}", f"backend {backend} is no Service port")


# ---------------------------------------------------------------------------------------------- helm (static)


def values_has(values: dict, path: list[str]) -> bool:
    node = values
    for key in path:
        if not isinstance(node, dict):
            return True  # a value the template reads into (a map given by the user)
        if key not in node:
            return False
        node = node[key]
    return True


def check_helm_static() -> None:
    chart_dir = ROOT / "helm/iknow"
    chart = yaml.safe_load((chart_dir / "Chart.yaml").read_text())
    for field in ("apiVersion", "name", "version", "appVersion"):
        if not chart.get(field):
            problem("helm/iknow/Chart.yaml", f"missing {field}")
    if chart.get("apiVersion") != "v2":
        problem("helm/iknow/Chart.yaml", "apiVersion must be v2")
    values = yaml.safe_load((chart_dir / "values.yaml").read_text())
    where = "helm/iknow/values.yaml"
    secret_keys = set(values["secrets"]["values"])
    components = dict(values["services"], gateway=values["gateway"])
    for name, comp in components.items():
        check_binary(f"{where} {name}", name)
        section = comp.get("section", "gateway")
        if SECTIONS.get(name) != section:
            problem(f"{where} {name}", f"section {section!r}, but the binary reads [{SECTIONS.get(name)}]")
        if name != "gateway":
            check_env_name(f"{where} services.{name}.section", f"IKNOW__{section.upper()}__GRPC_ADDR")
            check_env_name(f"{where} services.{name}.section", f"IKNOW__GATEWAY__{section.upper()}_URL")
            default_port = addr_port(ENV_NAMES.get(f"IKNOW__{section.upper()}__GRPC_ADDR", ""))
            if default_port != comp["port"]:
                problem(f"{where} {name}", f"port {comp['port']} differs from the default {default_port}")
        for var, key in (comp.get("secretEnv") or {}).items():
            check_env_name(f"{where} {name}.secretEnv", var)
            if key not in secret_keys:
                problem(f"{where} {name}.secretEnv", f"{var} reads key {key!r} missing from secrets.values")
        for var in comp.get("env") or {}:
            check_env_name(f"{where} {name}.env", var)
        for var in list(comp.get("secretEnv") or {}) + list(comp.get("env") or {}):
            check_own_section(f"{where} {name}", name, var)
    check_helm_settings(values, components)
    helpers = (chart_dir / "templates/_helpers.tpl").read_text()
    defined = set(re.findall(r'{{-?\s*define\s+"([^"]+)"', helpers))
    for tpl in sorted((chart_dir / "templates").iterdir()):
        text = re.sub(r"{{-?\s*/\*.*?\*/\s*-?}}", "", tpl.read_text(), flags=re.S)  # template comments
        w = rel(tpl)
        if text.count("{{") != text.count("}}"):
            problem(w, "unbalanced {{ }}")
        for name in re.findall(r'(?:include|template)\s+"([^"]+)"', text):
            if name not in defined:
                problem(w, f"includes undefined template {name!r}")
        for path in re.findall(r"\$?\.Values((?:\.\w+)+)", text):
            if not values_has(values, path.strip(".").split(".")):
                problem(w, f".Values{path} is not in values.yaml")
        for var in re.findall(r"\b(IKNOW__[A-Z_]+?)(?=[\s:\"])", text):
            check_env_name(w, var)


def helm_configmap_vars(values: dict) -> dict[str, Setting]:
    """The variables templates/configmap.yaml renders (values only where they are literal in values.yaml)."""
    text = (ROOT / "helm/iknow/templates/configmap.yaml").read_text()
    out: dict[str, Setting] = {}
    for line in text.splitlines():
        m = re.match(r"^\s*(IKNOW__[A-Za-z_{}$ ]+?):\s*(.*)$", line)
        if not m:
            continue
        sections = [s["section"] for s in values["services"].values()] if "$section" in m[1] else [""]
        for section in sections:
            var = re.sub(r"{{\s*\$section\s*}}", section.upper(), m[1])
            out[var] = Setting(value=values["environment"] if var == "IKNOW__ENVIRONMENT" else None)
    return out


def check_helm_settings(values: dict, components: dict) -> None:
    """The chart's settings: check_settings, every Secret key read, and the same keys (and literal values)
    per component as k8s/."""
    where = "helm/iknow"
    shared = helm_configmap_vars(values)
    for var in shared:
        check_env_name(f"{where}/templates/configmap.yaml", var)
    comps: dict[str, dict[str, Setting]] = {}
    used: set[str] = set()
    for name, comp in components.items():
        env = dict(shared)
        env.update({k: Setting(value=str(v)) for k, v in (comp.get("env") or {}).items()})
        env.update({k: Setting(secret=("secrets", key)) for k, key in (comp.get("secretEnv") or {}).items()})
        used |= set((comp.get("secretEnv") or {}).values())
        comps[name] = env
    check_settings(where, comps, secrets_required=True)
    for key in sorted(set(values["secrets"]["values"]) - used):
        problem(f"{where}/values.yaml secrets.values", f"key {key!r} is read by no component")
    # Same keys of each component's own section as k8s/, the same Secret keys, the same literal values.
    for name, env in comps.items():
        if name not in K8S_SETTINGS:
            continue
        prefix = f"IKNOW__{SECTIONS[name].upper()}__"
        mine = {v for v in env if v.startswith(prefix)}
        theirs = {v for v in K8S_SETTINGS[name] if v.startswith(prefix)}
        for var in sorted(theirs - mine):
            problem(f"{where} {name}", f"{var} is set in k8s/ but not by the chart")
        for var in sorted(mine - theirs):
            problem(f"{where} {name}", f"{var} is set by the chart but not in k8s/")
        for var in sorted(mine & theirs):
            h, k = env[var], K8S_SETTINGS[name][var]
            if h.secret or k.secret:
                if not (h.secret and k.secret and h.secret[1] == k.secret[1]):
                    problem(f"{where} {name}", f"{var} is {h.show(var)} here but {k.show(var)} in k8s/")
            elif h.value is not None and h.value != k.value:
                problem(f"{where} {name}", f"{var}={h.value!r} here but {k.value!r} in k8s/")


def main() -> int:
    for step in (check_dockerfile, check_compose, check_k8s, check_helm_static):
        step()
    for p in problems:
        print(f"PROBLEM {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Lints helm/iknow with Helm's own Go library (helm-sdkpy, Python >= 3.12; run by scripts/validate-deploy).

Lints the chart under its default values and under a variant that flips every switch (import hook, TLS, no
network policies or PDBs, an existing Secret, a registry, autoscaling inverted), so both sides of every `if`
render. Prints one line per problem and exits 1 if there is any.
"""

import asyncio
import copy
import json
import shutil
import sys
import tempfile
from pathlib import Path

import helm_sdkpy
import yaml

ROOT = Path(__file__).resolve().parent.parent
problems: list[str] = []


def problem(where: str, msg: str) -> None:
    problems.append(f"{where}: {msg}")


def helm_lint() -> None:
    """Lints the chart with Helm's Go library under the default values and under every switch flipped."""
    chart_dir = ROOT / "helm/iknow"
    values = yaml.safe_load((chart_dir / "values.yaml").read_text())
    variant = copy.deepcopy(values)
    variant["importSample"]["enabled"] = True
    variant["ingress"].update(enabled=True, tls=[{"secretName": "iknow-tls", "hosts": ["iknow.example.com"]}])
    variant["networkPolicy"]["enabled"] = False
    variant["podDisruptionBudget"]["enabled"] = False
    variant["secrets"].update(create=False, existingSecret="iknow-secrets")
    variant["image"]["registry"] = "registry.example.com/team"
    for comp in list(variant["services"].values()) + [variant["gateway"]]:
        comp["autoscaling"]["enabled"] = not comp["autoscaling"]["enabled"]
        comp["autoscaling"].setdefault("minReplicas", 2)
        comp["autoscaling"].setdefault("maxReplicas", 4)
        comp["autoscaling"].setdefault("targetCPUUtilizationPercentage", 70)
    severities = {1: "info", 2: "warning", 3: "error"}

    async def lint(path: Path) -> dict:
        cfg = helm_sdkpy.Configuration(namespace="iknow")
        return await helm_sdkpy.Lint(cfg).run(str(path))

    for label, vals in (("default values", None), ("every switch flipped", variant)):
        with tempfile.TemporaryDirectory() as tmp:
            copy_dir = Path(tmp) / "iknow"
            shutil.copytree(chart_dir, copy_dir)
            if vals is not None:
                (copy_dir / "values.yaml").write_text(yaml.safe_dump(vals))
            result = asyncio.run(lint(copy_dir))
        for msg in result.get("Messages") or []:
            sev = severities.get(msg.get("Severity"), str(msg.get("Severity")))
            err = msg.get("Err")
            # helm-sdkpy serialises Go errors as {}: the path and severity are what survive.
            detail = err if isinstance(err, str) else "" if err in ({}, None) else json.dumps(err)
            line = f"helm lint ({label}): {sev}: {msg.get('Path')} {detail}".rstrip()
            if msg.get("Severity", 0) >= 2:
                problem("helm/iknow", line)
            else:
                print(line)
        if result.get("Errors"):
            problem("helm/iknow", f"helm lint ({label}) reported {len(result['Errors'])} error(s)")
        print(f"helm lint ({label}): {result.get('TotalChartsLinted', 0)} chart(s) linted")


if __name__ == "__main__":
    helm_lint()
    for p in problems:
        print(f"PROBLEM {p}")
    sys.exit(1 if problems else 0)

#!/usr/bin/env python3
"""Regenerate policies/cfn/ from the CloudFormation registry schemas that cfn-lint ships.

Each registry schema lists, per handler, the IAM actions CloudFormation itself calls to create,
update, delete or read a resource. That is the least-privilege deploy permission set for a
template, and cfn-lint (MIT-0) is the maintained, versioned carrier of those schemas, so it is
the source we pin and record.

Usage:
    python3 scripts/gen-cfn-permissions.py                          # latest cfn-lint
    python3 scripts/gen-cfn-permissions.py --cfn-lint-version 1.58.0

Only the Python standard library is needed; cfn-lint is installed into a throw-away venv.

Output (under policies/cfn/):
    handler-permissions.tsv  type<TAB>create<TAB>update<TAB>delete<TAB>read, actions
                             comma-separated, sorted, deduplicated; empty field = none published
    SOURCE                   package@version, schema date, generation date, regenerate command
    NOTICE                   cfn-lint's license and notice, and where the schemas come from
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

HANDLERS = ("create", "update", "delete", "read")
# us-east-1 carries the most types; a type missing there is taken from the first other region
# (sorted by name) that has it, so region-only and retired types are still recognised.
PREFERRED_PROVIDER = "us-east-1.json"
# IAM action syntax: service prefix, colon, action name with optional wildcards.
ACTION = re.compile(r"^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$")

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "policies" / "cfn"


def install(tmp: Path, version: str | None) -> Path:
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    py = env_dir / ("Scripts" if os.name == "nt" else "bin") / "python"
    spec = f"cfn-lint=={version}" if version else "cfn-lint"
    subprocess.run(
        [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", spec],
        check=True,
    )
    return py


def locate(py: Path) -> tuple[str, Path, Path]:
    """Ask the venv where cfn-lint lives, so the layout of any version is found, not assumed."""
    code = (
        "import importlib.metadata as m, json, os, cfnlint\n"
        "d = m.distribution('cfn-lint')\n"
        "lic = [str(f.locate()) for f in (d.files or [])"
        " if f.name in ('LICENSE', 'NOTICE') and 'dist-info' in str(f)]\n"
        "print(json.dumps({'version': d.version,"
        " 'pkg': os.path.dirname(cfnlint.__file__), 'licenses': lic}))\n"
    )
    info = json.loads(subprocess.run([str(py), "-c", code], check=True, capture_output=True,
                                     text=True).stdout)
    schemas = Path(info["pkg"]) / "data" / "schemas"
    if not (schemas / "providers").is_dir():
        sys.exit(f"gen-cfn-permissions: no providers/ under {schemas}; layout changed, inspect it")
    return info["version"], schemas, info["licenses"]


def provider_entries(schemas: Path) -> list[tuple[str, Path]]:
    """(type, schema file) pairs in preference order, for either cfn-lint layout.

    cfn-lint 1.x: providers/<region>.json maps types to resources/<hash>.json.
    cfn-lint 0.x: providers/<region_with_underscores>/<type-file>.json, typeName inside.
    """
    providers = schemas / "providers"
    entries = sorted(providers.iterdir(), key=lambda p: p.name)
    preferred = {PREFERRED_PROVIDER, PREFERRED_PROVIDER.removesuffix(".json").replace("-", "_")}
    entries.sort(key=lambda p: p.name not in preferred)  # stable: preferred first
    pairs = []
    for entry in entries:
        if entry.is_file() and entry.suffix == ".json":
            mapping = json.loads(entry.read_text(encoding="utf-8"))
            for type_name, ref in sorted(mapping.items()):
                path = schemas / "resources" / f"{ref}.json"
                if path.is_file():
                    pairs.append((type_name, path))
        elif entry.is_dir():
            for path in sorted(entry.glob("*.json")):
                type_name = json.loads(path.read_text(encoding="utf-8")).get("typeName")
                if isinstance(type_name, str):
                    pairs.append((type_name, path))
    return pairs


def normalise(action: str) -> str | None:
    """Lower-case the service prefix (some schemas write `Batch:`); drop non-IAM strings."""
    action = action.strip()
    if not ACTION.match(action):
        return None
    service, _, name = action.partition(":")
    return f"{service.lower()}:{name}"


def build(schemas: Path) -> tuple[list[str], dict[str, int]]:
    chosen: dict[str, Path] = {}
    for type_name, path in provider_entries(schemas):
        chosen.setdefault(type_name, path)

    stats = {"types": 0, "with_handlers": 0, "dropped": 0}
    lines = []
    for type_name in sorted(chosen):
        schema = json.loads(chosen[type_name].read_text(encoding="utf-8"))
        handlers = schema.get("handlers") or {}
        fields = []
        for handler in HANDLERS:
            raw = (handlers.get(handler) or {}).get("permissions") or []
            kept = set()
            for action in raw:
                norm = normalise(action) if isinstance(action, str) else None
                if norm is None:
                    if action:
                        stats["dropped"] += 1
                    continue
                kept.add(norm)
            fields.append(",".join(sorted(kept)))
        if "\t" in type_name or "\n" in type_name:
            continue
        stats["types"] += 1
        if any(fields):
            stats["with_handlers"] += 1
        lines.append("\t".join([type_name, *fields]))
    return lines, stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cfn-lint-version", help="pin a cfn-lint version (default: latest)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="gen-cfn-permissions-") as tmp:
        py = install(Path(tmp), args.cfn_lint_version)
        version, schemas, licenses = locate(py)
        lines, stats = build(schemas)
        schema_date = ""
        version_json = schemas / "version.json"
        if version_json.is_file():
            schema_date = json.loads(version_json.read_text(encoding="utf-8")).get(
                "schema_date", "")
        license_texts = []
        for path in sorted(licenses):
            text = Path(path).read_text(encoding="utf-8").strip()
            license_texts.append(f"--- {Path(path).name} (cfn-lint {version}) ---\n{text}\n")

    OUT.mkdir(parents=True, exist_ok=True)
    header = ("# type\tcreate\tupdate\tdelete\tread (IAM actions CloudFormation's handlers call;"
              f" from cfn-lint {version}, see SOURCE)")
    table = "\n".join([header, *lines]) + "\n"
    (OUT / "handler-permissions.tsv").write_text(table, encoding="utf-8")

    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    (OUT / "SOURCE").write_text(
        f"package: cfn-lint@{version} (PyPI)\n"
        f"schemas: cfnlint/data/schemas/providers/*.json -> resources/<hash>.json,"
        f" handlers.{{create,update,delete,read}}.permissions\n"
        f"schema_date: {schema_date or 'unknown'}\n"
        f"generated: {today}\n"
        f"types: {stats['types']} ({stats['with_handlers']} with handler permissions;"
        f" the rest are listed with empty fields so they still count as known types)\n"
        f"regions: {PREFERRED_PROVIDER.removesuffix('.json')} first, then other regions"
        f" (by name) for types it lacks; SAM types come from sam.json and have no handlers\n"
        f"normalised: service prefix lower-cased; wildcard actions kept as published;"
        f" {stats['dropped']} strings that are not IAM actions dropped\n"
        f"regenerate: python3 scripts/gen-cfn-permissions.py --cfn-lint-version {version}\n",
        encoding="utf-8",
    )
    (OUT / "NOTICE").write_text(
        "policies/cfn/handler-permissions.tsv is derived from the AWS CloudFormation resource\n"
        "provider schemas (the CloudFormation registry, published by Amazon Web Services) as\n"
        f"bundled in the cfn-lint package (https://github.com/aws-cloudformation/cfn-lint),\n"
        f"version {version}, distributed under the MIT No Attribution license (MIT-0).\n"
        "Only the handler permission lists are kept. cfn-lint's license files follow.\n\n"
        + "\n".join(license_texts),
        encoding="utf-8",
    )
    size = len(table.encode("utf-8"))
    print(f"gen-cfn-permissions: cfn-lint {version}: {stats['types']} types"
          f" ({stats['with_handlers']} with handlers), {size} bytes")


if __name__ == "__main__":
    main()

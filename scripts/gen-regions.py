#!/usr/bin/env python3
"""Regenerate policies/regions/ from the partitions data the AWS SDK for Rust ships.

Every aws-sdk-* crate embeds the AWS partitions data (partitions.json: each partition's
region-name pattern and its regions) in `src/endpoint_lib.rs`, for its endpoint rules. The
crate this project builds with, at the version Cargo.lock pins, is the source: `--region` is
checked against the same list the SDK resolves endpoints from.

Usage:
    python3 scripts/gen-regions.py          # from the locked aws-sdk-iam in the cargo registry

Only the Python standard library and `cargo` are needed.

Output (under policies/regions/):
    regions.tsv   region<TAB>partition<TAB>description, sorted by region; the partitions'
                  pseudo-regions (`aws-global`, ...) that do not match their own region pattern
                  are left out, since no request is made in them
    SOURCE        crate@version, file, generation date, regenerate command
"""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "policies" / "regions"
CRATE = "aws-sdk-iam"


def fail(message: str) -> None:
    print(f"gen-regions: {message}", file=sys.stderr)
    sys.exit(1)


def locked_crate() -> tuple[str, Path]:
    meta = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    for package in json.loads(meta.stdout)["packages"]:
        if package["name"] == CRATE:
            return package["version"], Path(package["manifest_path"]).parent
    fail(f"{CRATE} is not in the dependency graph")
    raise AssertionError


def embedded_partitions(crate_dir: Path) -> dict:
    source = (crate_dir / "src" / "endpoint_lib.rs").read_text()
    match = re.search(r'new_from_json\(b"((?:[^"\\]|\\.)*)"\)', source)
    if not match:
        fail(f"no embedded partitions JSON in {crate_dir / 'src' / 'endpoint_lib.rs'}")
    # A Rust byte string: only `\"` and `\\` escapes appear in the JSON literal.
    text = re.sub(r"\\(.)", r"\1", match.group(1))
    return json.loads(text)


def main() -> None:
    version, crate_dir = locked_crate()
    data = embedded_partitions(crate_dir)
    rows = []
    for partition in data["partitions"]:
        pattern = re.compile(partition["regionRegex"])
        for region, info in partition["regions"].items():
            if pattern.match(region):
                rows.append((region, partition["id"], info.get("description", "")))
    rows.sort()
    if len(rows) < 30:
        fail(f"only {len(rows)} regions found: the data layout may have changed")
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / "regions.tsv").open("w") as out:
        for row in rows:
            out.write("\t".join(row) + "\n")
    (OUT / "SOURCE").write_text(
        f"{CRATE}@{version} src/endpoint_lib.rs (the AWS partitions data, version "
        f"{data.get('version', '?')}, embedded for the SDK's endpoint rules)\n"
        f"generated {datetime.date.today().isoformat()} by `python3 scripts/gen-regions.py`\n"
        f"{len(rows)} regions in {len(data['partitions'])} partitions\n"
    )
    print(f"gen-regions: {len(rows)} regions from {CRATE}@{version}")


if __name__ == "__main__":
    main()

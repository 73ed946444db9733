"""Check the latest results in ``bench/results/`` against the targets of issue 7.

``python3 bench/targets.py [--results DIR]`` reads the newest ``*-failover.json``,
``*-throughput.json``, ``*-scale.json`` and ``*-sim_speed.json`` and prints a Markdown
table: each target, the measured value (a ratio of medians pysentinel / redis-sentinel,
or an absolute median) and whether it is met.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RESULTS

Row = dict[str, object]


def latest(results: Path, name: str) -> list[Row]:
    """The summary rows of the newest ``<date>-<name>.json``, or [] when there is none."""
    files = sorted(results.glob(f"*-{name}.json"))
    if not files:
        return []
    doc = json.loads(files[-1].read_text())
    rows: list[Row] = doc["summary"]
    return rows


def pick(rows: list[Row], metric: str, **keys: object) -> Row | None:
    for row in rows:
        if row["metric"] == metric and all(str(row.get(k)) == str(v) for k, v in keys.items()):
            return row
    return None


def ratio(row: Row | None) -> float | None:
    value = None if row is None else row.get("ratio")
    return value if isinstance(value, float) else None


def median(row: Row | None, kind: str = "pysentinel") -> float | None:
    cell = None if row is None else row.get(kind)
    if isinstance(cell, dict) and isinstance(cell.get("median"), int | float):
        return float(cell["median"])
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    fo = latest(args.results, "failover")
    tp = latest(args.results, "throughput")
    sc = latest(args.results, "scale")
    sim = latest(args.results, "sim_speed")
    checks: list[tuple[str, float | None, str, Callable[[float], bool]]] = []
    for da in (1000, 5000):
        for failure in ("kill", "sleep"):
            where = f"down-after {da}, {failure}"
            r = ratio(pick(fo, "switch_all", down_after_ms=da, failure=failure))
            checks.append(
                (
                    f"failover to +switch-master, {where}",
                    r,
                    "ratio <= 1.0 (aim 0.8)",
                    lambda x: x <= 1.0,
                )
            )
            r = ratio(pick(fo, "write_gap", down_after_ms=da, failure=failure))
            checks.append(
                (f"client's longest write gap, {where}", r, "ratio <= 1.0", lambda x: x <= 1.0)
            )
            m = median(pick(fo, "convert", down_after_ms=da, failure=failure))
            checks.append(
                (
                    f"old master to +convert-to-slave, {where}",
                    m,
                    "pysentinel <= 2 s",
                    lambda x: x <= 2.0,
                )
            )
    r = ratio(pick(tp, "rps", command="get-master-addr-by-name", clients=50, pipeline=1))
    checks.append(
        ("get-master-addr-by-name rps, -c 50 -P 1", r, "ratio >= 0.5", lambda x: x >= 0.5)
    )
    for n_sent in (1, 3):
        r = ratio(pick(sc, "cpu_pct", n_masters=500, n_sentinels=n_sent))
        checks.append((f"CPU at N = 500, {n_sent} sentinel(s)", r, "ratio <= 4", lambda x: x <= 4))
        r = ratio(pick(sc, "rss_mib", n_masters=500, n_sentinels=n_sent))
        checks.append((f"RSS at N = 500, {n_sent} sentinel(s)", r, "ratio <= 3", lambda x: x <= 3))
    for row in sim:
        if row["metric"] == "sim_s_per_wall_s":
            checks.append(
                (
                    f"simulator: {row['what']}",
                    median(row),
                    ">= 5,000 sim s / wall s",
                    lambda x: x >= 5000,
                )
            )
    print("| target | measured | wanted | met |")
    print("|---|---|---|---|")
    for name, value, wanted, ok in checks:
        shown = "no data" if value is None else f"{value:,.2f}"
        met = "-" if value is None else ("yes" if ok(value) else "**no**")
        print(f"| {name} | {shown} | {wanted} | {met} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

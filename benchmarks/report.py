"""One table of every figure in benchmarks/results/*.json, summary.json, and a chart (bench.png).

Benchmarks that write a "figures" list (record_cpu, cold_start, memory, cost_model) are read
as they are; the latency benchmarks and the chaos ledger are read from their own layout.
A figure without a floor measured in the same run shows no ratio.

    .venv/bin/python -m benchmarks.report
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._common import RESULTS, figure, ratio

SKIPPED = {"summary.json"}


def _latency(results: dict[str, Any]) -> list[dict[str, Any]]:
    floor = results["emulator_floor_ms"]
    rows = []
    for key, label in (("webhook_to_handler_ms", "webhook -> audit record"), ("webhook_ack_ms", "webhook HTTP ack")):
        for stat in ("median", "p95", "p99"):
            rows.append(
                figure(
                    f"{label} {stat}",
                    results[key][stat],
                    "ms",
                    floor[stat],
                    "emulator: put_events -> SQS -> receive",
                    note=f"n={results[key]['n']}",
                )
            )
    return rows


def _saga(results: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [
        figure(f"quote-to-cash saga {stat}", results["saga_ms"][stat], "ms", note="no floor measured")
        for stat in ("median", "p95", "p99")
    ]
    rows += [
        figure(f"saga step {step} median", row["median"], "ms", note="no floor measured")
        for step, row in results["step_ms"].items()
    ]
    return rows


def _chaos(results: dict[str, Any]) -> list[dict[str, Any]]:
    ledger = results["after_redrive"]
    return [
        figure(f"chaos ledger: {key}", ledger[key], "events", note="after redrive")
        for key in ("lost", "duplicated", "parked", "parked_poison", "applied")
        if key in ledger
    ]


# Results written before benchmarks listed their figures.
ADAPTERS: dict[str, Callable[[dict[str, Any]], list[dict[str, Any]]]] = {
    "webhook_latency": _latency,
    "saga_latency": _saga,
    "chaos": _chaos,
}


def collect(results_dir: Path) -> list[dict[str, Any]]:
    """Every figure of every result file, each tagged with its benchmark and provenance."""
    rows = []
    for path in sorted(results_dir.glob("*.json")):
        if path.name in SKIPPED:
            continue
        results = json.loads(path.read_text())
        name = path.stem
        figures = results.get("figures") or (ADAPTERS[name](results) if name in ADAPTERS else [])
        for row in figures:
            rows.append(
                {
                    "benchmark": name,
                    **row,
                    "ratio": ratio(row["value"], row["floor"]),
                    "commit": results.get("commit"),
                    "measured_at": results.get("measured_at"),
                    "machine": results.get("machine"),
                }
            )
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Concord benchmarks (benchmarks/results)")
    for column, justify in (
        ("benchmark", "left"),
        ("figure", "left"),
        ("value", "right"),
        ("floor", "right"),
        ("x floor", "right"),
        ("floor is", "left"),
        ("commit", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        table.add_row(
            row["benchmark"],
            row["name"],
            f"{row['value']:,.2f} {row['unit']}",
            "" if row["floor"] is None else f"{row['floor']:,.2f} {row['unit']}",
            "" if row["ratio"] is None else f"{row['ratio']:.2f}",
            row["floor_name"] or row["note"],
            row["commit"] or "",
        )
    Console(width=200).print(table)


def chart(rows: list[dict[str, Any]], path: Path) -> None:
    """Horizontal bars of value and floor per figure, one panel per unit."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    units = list(dict.fromkeys(row["unit"] for row in rows))
    heights = [max(1.5, 0.32 * sum(r["unit"] == u for r in rows) + 0.8) for u in units]
    figure_, axes = plt.subplots(
        len(units), 1, figsize=(11, sum(heights)), gridspec_kw={"height_ratios": heights}, squeeze=False
    )
    for axis, unit in zip(axes[:, 0], units, strict=True):
        panel = [r for r in rows if r["unit"] == unit]
        labels = [f"{r['benchmark']}: {r['name']}"[:70] for r in panel]
        positions = range(len(panel))
        axis.barh(
            [p + 0.2 for p in positions], [r["value"] for r in panel], height=0.4, label="measured", color="tab:blue"
        )
        axis.barh(
            [p - 0.2 for p in positions], [r["floor"] or 0 for r in panel], height=0.4, label="floor", color="tab:gray"
        )
        for p, r in zip(positions, panel, strict=True):
            if r["ratio"] is not None:
                axis.text(r["value"], p + 0.2, f" x{r['ratio']:.1f}", va="center", fontsize=7)
        axis.set_yticks(list(positions), labels, fontsize=7)
        axis.invert_yaxis()
        axis.set_xlabel(unit)
        if unit == "µs":
            axis.set_xscale("log")  # the floors are an order of magnitude below
        else:
            axis.set_xlim(right=max(max(r["value"], r["floor"] or 0) for r in panel) * 1.15 or 1)  # room for "x ratio"
        axis.legend(fontsize=7, loc="best")
    figure_.tight_layout()
    figure_.savefig(path, dpi=110)
    plt.close(figure_)


def main() -> None:
    rows = collect(RESULTS)
    if not rows:
        raise SystemExit(f"no results in {RESULTS}: run make bench")
    print_table(rows)
    (RESULTS / "summary.json").write_text(json.dumps({"figures": rows}, indent=2))
    chart(rows, RESULTS / "bench.png")
    print(f"written to {RESULTS / 'summary.json'} and {RESULTS / 'bench.png'}")


if __name__ == "__main__":
    main()

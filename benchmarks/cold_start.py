"""Cold-start import time of each function's handler, against the import time of its libraries.

Each run is a fresh interpreter that puts functions/<name> first on sys.path (Lambda's task
root) and times `import handler`. The floor is the same interpreter importing exactly the
third-party modules that handler's import loaded (found by a first run: modules that belong
to an installed distribution other than concord), in the order it loaded them, and nothing of
Concord's. So handler − floor is what Concord's own code costs at start. Bytecode caches are
warm for Concord's modules as for the libraries' (the first, untimed run writes them to a
temporary cache, even where PYTHONDONTWRITEBYTECODE is set); interpreter start-up itself is not
included. The ratio is of CPU time, the fastest of the runs on each side (as timeit reports:
other processes only ever add time, and on this 2-core machine medians of three moved the ratio
by ±0.3 between runs). Wall time (median) is reported beside it.

    .venv/bin/python -m benchmarks.cold_start --runs 5 [--functions webhook_ingest audit_trail]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from typing import Any

from ._common import (
    FUNCTIONS_DIR,
    figure,
    function_names,
    provenance,
    run_child,
    write_results,
)

# Imports the handler as the Lambda runtime does; prints the time, the peak RSS and the
# third-party modules the import loaded.
HANDLER_IMPORT = """
import importlib, importlib.metadata, json, resource, sys, time
sys.path.insert(0, sys.argv[1])
before = set(sys.modules)
started, started_cpu = time.perf_counter(), time.process_time()
importlib.import_module("handler")
elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
owners = importlib.metadata.packages_distributions()
libraries = [name for name in sys.modules if name not in before
             and name.split(".")[0] in owners and name.split(".")[0] != "concord"]
print(json.dumps({"import_ms": elapsed * 1000, "import_cpu_ms": cpu * 1000,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "libraries": libraries}))
"""

# Imports the given third-party modules (a JSON list in argv[1]) and nothing else.
LIBRARY_IMPORT = """
import importlib, json, resource, sys, time
modules = json.loads(sys.argv[1])
failed = []
started, started_cpu = time.perf_counter(), time.process_time()
for name in modules:
    try:
        importlib.import_module(name)
    except Exception:  # a module registered under an alias (e.g. a vendored shim) is not importable by name
        failed.append(name)
elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
print(json.dumps({"import_ms": elapsed * 1000, "import_cpu_ms": cpu * 1000,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "failed": failed}))
"""


def import_handler(function: str) -> dict[str, Any]:
    return run_child(HANDLER_IMPORT, str(FUNCTIONS_DIR / function))


def import_libraries(modules: list[str]) -> dict[str, Any]:
    return run_child(LIBRARY_IMPORT, json.dumps(modules))


def library_modules(function: str) -> list[str]:
    """The third-party modules importing the function's handler loads, in load order."""
    return import_handler(function)["libraries"]


def distributions(modules: list[str]) -> list[str]:
    """Top-level packages among `modules`, for the report (e.g. boto3, pydantic)."""
    return sorted({name.split(".")[0] for name in modules})


def measure(functions: list[str], runs: int) -> list[dict[str, Any]]:
    rows = []
    for function in functions:
        libraries = library_modules(function)  # also an untimed first run: compiles any stale bytecode
        handler_runs, floor_runs = [], []
        for _ in range(runs):  # pairs run back to back, so background load hits both alike
            handler_runs.append(import_handler(function))
            floor_runs.append(import_libraries(libraries))
        failed = floor_runs[-1]["failed"]
        rows.append(
            {
                "function": function,
                "import_ms": min(run["import_cpu_ms"] for run in handler_runs),
                "library_floor_ms": min(run["import_cpu_ms"] for run in floor_runs),
                "import_wall_ms": statistics.median(run["import_ms"] for run in handler_runs),
                "library_floor_wall_ms": statistics.median(run["import_ms"] for run in floor_runs),
                "libraries": distributions(libraries),
                "library_modules": len(libraries),
                "floor_modules_not_importable": failed,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="fresh interpreters per function; the fastest is reported")
    parser.add_argument("--functions", nargs="*", default=None, help="default: every functions/<name>/handler.py")
    args = parser.parse_args()
    functions = args.functions or function_names()

    with tempfile.TemporaryDirectory(prefix="concord-bytecode-") as bytecode:
        # The children inherit this environment (child_env): every module's bytecode is written
        # on the first run and read on the timed ones, Concord's like the installed libraries'.
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ["PYTHONPYCACHEPREFIX"] = bytecode
        rows = measure(functions, args.runs)
    results = {
        **provenance(),
        "runs": args.runs,
        "python": sys.version.split()[0],
        "functions": rows,
        "figures": [
            figure(
                f"cold import (CPU): {row['function']}",
                row["import_ms"],
                "ms",
                row["library_floor_ms"],
                "import of the same library modules",
                note=", ".join(row["libraries"]),
            )
            for row in rows
        ],
    }
    path = write_results("cold_start", results)
    print(
        f"handler import CPU time, fresh interpreter ({results['machine']}, commit {results['commit']}, "
        f"fastest of {args.runs}; median wall time in brackets)"
    )
    print(f"{'function':40} {'import ms':>16} {'libs ms':>16} {'x floor':>8} {'concord ms':>11}  libraries")
    for row in rows:
        handler = f"{row['import_ms']:.1f} ({row['import_wall_ms']:.0f})"
        floor = f"{row['library_floor_ms']:.1f} ({row['library_floor_wall_ms']:.0f})"
        print(
            f"{row['function']:40} {handler:>16} {floor:>16} {row['import_ms'] / row['library_floor_ms']:8.2f} "
            f"{row['import_ms'] - row['library_floor_ms']:11.1f}  {', '.join(row['libraries'])}"
        )
    print(f"written to {path}")


if __name__ == "__main__":
    main()

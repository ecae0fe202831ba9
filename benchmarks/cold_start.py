"""Cold-start import time of each function's handler, against the import time of its libraries.

Each run is a fresh interpreter that puts functions/<name> first on sys.path (Lambda's task
root) and times `import handler`. The floor is the same interpreter importing exactly the
third-party modules that handler's import loaded (found by a first run: modules that belong
to an installed distribution other than concord), in the order it loaded them, and nothing of
Concord's. So handler − floor is what Concord's own code costs at start. Bytecode caches are
warm (as in a layer built by pip); interpreter start-up itself is not included.

    .venv/bin/python -m benchmarks.cold_start --runs 3 [--functions webhook_ingest audit_trail]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
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
started = time.perf_counter()
importlib.import_module("handler")
elapsed = time.perf_counter() - started
owners = importlib.metadata.packages_distributions()
libraries = [name for name in sys.modules if name not in before
             and name.split(".")[0] in owners and name.split(".")[0] != "concord"]
print(json.dumps({"import_ms": elapsed * 1000, "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "libraries": libraries}))
"""

# Imports the given third-party modules (a JSON list in argv[1]) and nothing else.
LIBRARY_IMPORT = """
import importlib, json, resource, sys, time
modules = json.loads(sys.argv[1])
failed = []
started = time.perf_counter()
for name in modules:
    try:
        importlib.import_module(name)
    except Exception:  # a module registered under an alias (e.g. a vendored shim) is not importable by name
        failed.append(name)
elapsed = time.perf_counter() - started
print(json.dumps({"import_ms": elapsed * 1000, "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "failed": failed}))
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
        handler_ms, floor_ms, failed = [], [], []
        for _ in range(runs):  # pairs run back to back, so background load hits both alike
            handler_ms.append(import_handler(function)["import_ms"])
            floor = import_libraries(libraries)
            floor_ms.append(floor["import_ms"])
            failed = floor["failed"]
        rows.append(
            {
                "function": function,
                "import_ms": statistics.median(handler_ms),
                "library_floor_ms": statistics.median(floor_ms),
                "libraries": distributions(libraries),
                "library_modules": len(libraries),
                "floor_modules_not_importable": failed,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="fresh interpreters per function; the median is reported")
    parser.add_argument("--functions", nargs="*", default=None, help="default: every functions/<name>/handler.py")
    args = parser.parse_args()
    functions = args.functions or function_names()

    rows = measure(functions, args.runs)
    results = {
        **provenance(),
        "runs": args.runs,
        "python": sys.version.split()[0],
        "functions": rows,
        "figures": [
            figure(
                f"cold import: {row['function']}",
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
        f"handler import time, fresh interpreter ({results['machine']}, commit {results['commit']}, "
        f"median of {args.runs})"
    )
    print(f"{'function':32} {'import ms':>10} {'libs ms':>8} {'x floor':>8} {'concord ms':>11}  libraries")
    for row in rows:
        print(
            f"{row['function']:32} {row['import_ms']:10.1f} {row['library_floor_ms']:8.1f} "
            f"{row['import_ms'] / row['library_floor_ms']:8.2f} {row['import_ms'] - row['library_floor_ms']:11.1f}  "
            f"{', '.join(row['libraries'])}"
        )
    print(f"written to {path}")


if __name__ == "__main__":
    main()

"""Benchmark dispatcher: ``make bench`` (all) or ``bench/run.py NAME [ARGS…]`` (one).

A benchmark is a module ``bench/bench_<name>.py`` with a one-line module docstring and a
``main(argv: list[str]) -> int``. Every benchmark prints ratios against a baseline measured in
the same run (DESIGN §5): absolute times on shared machines are noise.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


def available() -> dict[str, Path]:
    return {p.stem.removeprefix("bench_"): p for p in sorted(BENCH_DIR.glob("bench_*.py"))}


def describe(name: str) -> str:
    module = importlib.import_module(f"bench_{name}")
    return (module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else ""


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(BENCH_DIR))
    benches = available()
    if argv and argv[0] in {"-h", "--help", "--list"}:
        print("usage: bench/run.py [NAME [ARGS…]]   (no NAME: run every benchmark)\n")
        for name in benches:
            print(f"  {name:<12} {describe(name)}")
        return 0
    if argv:
        name, args = argv[0], argv[1:]
        if name not in benches:
            print(f"unknown benchmark {name!r}; available: {', '.join(benches)}")
            return 2
        selected = [(name, args)]
    else:
        selected = [(name, []) for name in benches]
    status = 0
    for name, args in selected:
        print(f"=== bench {name} ===", flush=True)
        started = time.perf_counter()
        module = importlib.import_module(f"bench_{name}")
        code = int(module.main(args) or 0)
        print(f"=== bench {name}: exit {code} in {time.perf_counter() - started:.1f} s ===\n")
        status = status or code
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

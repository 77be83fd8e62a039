"""Working-time countdowns: render cost of the countdown tag in 工作时/工作日 vs the clock.

Renders the real ``cases_ui.countdown`` tag (the one on the queue, cards and case pages) for
deadlines spread from 60 days overdue to 30 days ahead, once with a working-time unit (the
calendar walk over weekends, holidays and 调休) and once with continuous hours (the clock, the
baseline), on a scratch SQLite database (the calendar reads its overrides there). Prints the
cost per 20-row queue page and the ratio working / clock.

Usage: ``bench/run.py countdown [--n 20000] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import timedelta


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py countdown")
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="wangge-bench-countdown-")
    os.environ["SQLITE_PATH"] = os.path.join(tmp, "bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wangge.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from wangge.cases.templatetags.cases_ui import countdown

    rnd = random.Random(3)
    now = timezone.now()
    dues = [
        now + timedelta(minutes=rnd.randint(-60 * 24 * 60, 30 * 24 * 60)) for _ in range(args.n)
    ]

    def run(unit: str) -> float:
        best = float("inf")
        for _ in range(args.repeat):
            started = time.perf_counter()
            for due in dues:
                countdown(due, now, unit)
            best = min(best, time.perf_counter() - started)
        return best

    clock = run("hour")
    working = run("work_hour")

    def per_page(seconds: float) -> float:
        return seconds / args.n * 20 * 1000

    print(f"{args.n} countdowns, best of {args.repeat}")
    for label, seconds in (
        ("clock (continuous hours, baseline)", clock),
        ("working time", working),
    ):
        print(f"{label:<36} {seconds * 1000:8.1f} ms = {per_page(seconds):.3f} ms per 20-row page")
    print(f"RATIO working / clock = {working / clock:.1f}")
    return 0

"""`wangge run`: what `make run` calls. Migrates, loads the demo city on first start, starts the
task worker in a child process and serves the site, printing the URL and demo logins."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Serve Wangge with its task worker (migrate and load the demo city on first run)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")
        parser.add_argument("--no-demo", action="store_true", help="do not load the demo city")
        parser.add_argument("--no-worker", action="store_true", help="do not start the worker")

    def handle(self, *args: Any, **options: Any) -> None:
        from wangge.demo import demo_is_loaded

        from .demo import write_logins

        call_command("migrate", interactive=False, verbosity=0)
        just_loaded = False
        if not options["no_demo"] and not demo_is_loaded():
            self.stdout.write("Loading the demo city (first run)…")
            try:
                call_command("demo")
                just_loaded = True
            except CommandError as exc:  # e.g. a real 姑苏区 was imported: serve without demo
                self.stderr.write(f"Demo city not loaded: {exc}")
        worker = None
        if not options["no_worker"]:
            worker = subprocess.Popen([sys.executable, "-m", "wangge.cli", "worker"])
        host, port = options["host"], options["port"]
        shown = f"[{host}]" if ":" in host else host
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Wangge is running at http://{shown}:{port}/"))
        if demo_is_loaded() and not just_loaded:  # `demo` has just printed them
            write_logins(self.stdout)
        self.stdout.write("")
        try:
            call_command("runserver", f"{host}:{port}", use_reloader=False, use_threading=True)
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=10)

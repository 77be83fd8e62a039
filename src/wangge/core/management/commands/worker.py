from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker

from wangge.core.models import WorkerHeartbeat
from wangge.core.periodic import enqueue_due_jobs

logger = logging.getLogger("wangge.worker")


class Command(BaseCommand):
    help = "Run the background task worker with a heartbeat (for /healthz) and periodic jobs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", default=f"{socket.gethostname()}-{os.getpid()}")
        parser.add_argument("--interval", type=float, default=1.0)
        parser.add_argument(
            "--no-periodic", action="store_true", help="do not enqueue periodic jobs"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name: str = options["name"]
        stop = threading.Event()
        now = timezone.now()
        WorkerHeartbeat.objects.update_or_create(
            name=name,
            defaults={
                "started_at": now,
                "last_seen": now,
                "hostname": socket.gethostname(),
                "pid": os.getpid(),
            },
        )

        def beat() -> None:
            while not stop.wait(settings.WORKER_HEARTBEAT_SECONDS):
                try:
                    WorkerHeartbeat.objects.filter(name=name).update(last_seen=timezone.now())
                    if not options["no_periodic"]:
                        enqueue_due_jobs()
                except Exception:  # a failed beat must not kill the worker
                    logger.exception("heartbeat failed")
                finally:
                    close_old_connections()

        thread = threading.Thread(target=beat, name="heartbeat", daemon=True)
        thread.start()
        if not options["no_periodic"]:
            enqueue_due_jobs()
        worker = Worker(
            queue_names=["*"],
            interval=options["interval"],
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=name[:64],
            excluded_queue_names=[],
        )
        worker.configure_signals()
        self.stdout.write(f"worker {name} running")
        try:
            worker.run()
        finally:
            stop.set()
            WorkerHeartbeat.objects.filter(name=name).delete()

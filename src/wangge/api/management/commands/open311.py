"""``wangge open311 create-key NAME [--rate N]`` · ``revoke-key NAME`` · ``list-keys``."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from wangge.core.exceptions import WanggeError


class Command(BaseCommand):
    help = "Open311 GeoReport v2 client keys: create (printed once), revoke, list."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create-key", help="create a client and print its api_key")
        create.add_argument("name")
        create.add_argument("--rate", type=int, default=None, help="POSTs per minute (default 60)")
        revoke = sub.add_parser("revoke-key", help="revoke a client's key")
        revoke.add_argument("name")
        sub.add_parser("list-keys", help="list clients (name, key prefix, rate, state)")

    def handle(self, *args: Any, **options: Any) -> None:
        from wangge.api.models import Open311Client
        from wangge.api.open311.keys import client_create, client_revoke

        action = options["action"]
        try:
            if action == "create-key":
                _client, raw = client_create(
                    actor="cli", name=options["name"], rate_per_minute=options["rate"]
                )
                self.stdout.write(raw)
            elif action == "revoke-key":
                client = client_revoke(actor="cli", name=options["name"])
                self.stdout.write(f"revoked {client.name}")
            else:
                for c in Open311Client.objects.order_by("name"):
                    state = "active" if c.is_active else "revoked"
                    self.stdout.write(
                        f"{c.name}\t{c.key_prefix}…\t{c.rate_per_minute}/min\t{state}"
                    )
        except WanggeError as exc:
            raise CommandError(exc.message) from exc

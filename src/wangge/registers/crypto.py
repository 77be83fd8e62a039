"""Encryption at rest and blind indexes for personal data (PIPL "privacy by design").

* ``encrypt(value, purpose)`` → ``"g1$<kid>$<base64url(nonce ‖ ciphertext ‖ tag)>"``: AES-256-GCM
  (authenticated) under the *current* key, a random 96-bit nonce, and ``purpose`` (e.g.
  ``"person.id_number"``) as associated data, so a ciphertext moved to another column fails to
  decrypt. ``kid`` names the key (first 8 hex digits of its SHA-256), which lets
  ``wangge registers rotate-key`` find what is not yet under the current key.
* ``blind_index(value, purpose)`` → HMAC-SHA256 under a separate key: equal values give equal
  hashes (exact search, de-duplication) while the hash reveals nothing without the key.
  ``blind_indexes`` adds the hashes under the *previous* index keys, which lookups accept while
  ``rotate-key`` recomputes the stored indexes under the current one (decision 0022).

Keys come from ``settings.WANGGE_PII_KEYS`` (first = current), ``WANGGE_PII_INDEX_KEY`` and, during
an index-key rotation only, ``WANGGE_PII_OLD_INDEX_KEYS``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from functools import cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "g1"
SEP = "$"
NONCE_BYTES = 12


class DecryptionError(Exception):
    """A ciphertext that no configured key opens (wrong key, altered data, wrong column)."""


@dataclass(frozen=True)
class Keyring:
    current_kid: str
    aeads: dict[str, AESGCM]
    index_key: bytes
    old_index_keys: tuple[bytes, ...] = ()

    @property
    def index_kid(self) -> str:
        return _kid(self.index_key)


def _kid(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:8]


def parse_key(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured("WANGGE_PII_KEYS: a key is not valid base64url") from exc
    if len(raw) != 32:
        raise ImproperlyConfigured("WANGGE_PII_KEYS: each key must decode to 32 bytes")
    return raw


def generate_key() -> str:
    """A new random key in the format WANGGE_PII_KEYS expects."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")


@cache
def _keyring(keys: tuple[str, ...], index_key: str, old_index_keys: tuple[str, ...]) -> Keyring:
    if not keys:
        raise ImproperlyConfigured("WANGGE_PII_KEYS is empty")
    raws = [parse_key(k) for k in keys]
    aeads = {_kid(raw): AESGCM(raw) for raw in raws}
    current = index_key.encode("utf-8")
    old = tuple(k.encode("utf-8") for k in dict.fromkeys(old_index_keys) if k != index_key)
    return Keyring(_kid(raws[0]), aeads, current, old)


def keyring() -> Keyring:
    # Keyed by the settings values so tests that override the settings get their own ring.
    return _keyring(
        tuple(settings.WANGGE_PII_KEYS),
        settings.WANGGE_PII_INDEX_KEY,
        tuple(getattr(settings, "WANGGE_PII_OLD_INDEX_KEYS", ())),
    )


def encrypt(value: str, purpose: str) -> str:
    """Encrypt ``value`` (an empty value stays empty: nothing to protect, nothing to store)."""
    if value == "":
        return ""
    ring = keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = ring.aeads[ring.current_kid].encrypt(
        nonce, value.encode("utf-8"), purpose.encode("ascii")
    )
    token = base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")
    return f"{PREFIX}{SEP}{ring.current_kid}{SEP}{token}"


def decrypt(token: str, purpose: str) -> str:
    if not token:
        return ""
    try:
        prefix, kid, body = token.split(SEP, 2)
    except ValueError as exc:
        raise DecryptionError("not a ciphertext") from exc
    ring = keyring()
    aead = ring.aeads.get(kid)
    if prefix != PREFIX or aead is None:
        raise DecryptionError(f"no configured key {kid!r}")
    blob = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    try:
        plain = aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], purpose.encode("ascii"))
    except InvalidTag as exc:
        raise DecryptionError("ciphertext does not authenticate") from exc
    return plain.decode("utf-8")


def key_id_of(token: str) -> str:
    parts = token.split(SEP, 2)
    return parts[1] if len(parts) == 3 else ""


def needs_rotation(token: str) -> bool:
    return bool(token) and key_id_of(token) != keyring().current_kid


def reencrypt(token: str, purpose: str) -> str:
    return encrypt(decrypt(token, purpose), purpose) if needs_rotation(token) else token


def _hmac(key: bytes, value: str, purpose: str) -> str:
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def blind_index(value: str, purpose: str) -> str:
    """Keyed hash for exact search under the current index key; ``""`` for an empty value.
    This is what gets stored."""
    if value == "":
        return ""
    return _hmac(keyring().index_key, value, purpose)


def blind_indexes(value: str, purpose: str) -> list[str]:
    """Every hash a stored index of ``value`` may hold: the current key's first, then those of
    the previous keys still configured (only during an index-key rotation). For lookups."""
    if value == "":
        return []
    ring = keyring()
    return [_hmac(key, value, purpose) for key in (ring.index_key, *ring.old_index_keys)]


def encrypt_json(data: Any, purpose: str) -> str:
    return encrypt(json.dumps(data, ensure_ascii=False, sort_keys=True), purpose)


def decrypt_json(token: str, purpose: str, default: Any = None) -> Any:
    if not token:
        return default
    return json.loads(decrypt(token, purpose))

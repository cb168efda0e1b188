"""HTTP Basic authentication against an Apache htpasswd file, as nginx's auth_basic does it.

Password hashes (apr1-MD5, bcrypt, {SHA}, sha-crypt, crypt) are slow by design; a load test
must not measure them on every request, so an Authorization header that verified once is
remembered (until the file changes). Failures are never remembered, as with nginx. Like
nginx, the node follows changes to the file: a credential it has not seen makes it re-read a
changed file first, and remembered ones are dropped within a second of a change.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import time

from passlib.apache import HtpasswdFile, htpasswd_context  # type: ignore[attr-defined]
from passlib.exc import MissingBackendError

log = logging.getLogger("ecsnode.auth")

# Apache on Linux refuses plaintext passwords in htpasswd files; so does the node.
_CONTEXT = htpasswd_context.copy(
    schemes=[name for name in htpasswd_context.schemes() if name != "plaintext"]
)
_CACHE_CAP = 100_000
_RELOAD_EVERY_S = 1.0


def claimed_key(header: str | None) -> str | None:
    """The key (user name) an Authorization: Basic header claims, verified or not."""
    credentials = decode_basic(header)
    return credentials[0] if credentials else None


def decode_basic(header: str | None) -> tuple[str, str] | None:
    """(key, secret) from an Authorization: Basic header, or None if it is not one."""
    if not header:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        key, colon, secret = (
            base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        )
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (key, secret) if colon else None


class HtpasswdAuth:
    """Verifies Authorization headers against one htpasswd file."""

    def __init__(self, path: str) -> None:
        """Load the file; ValueError when no entry in it could ever verify (the node refuses
        to start then: every request would be a 401, which looks like a broken client)."""
        self.path = path
        self._file = HtpasswdFile(path, context=_CONTEXT)
        self._passed: dict[str, str] = {}
        self._next_reload = time.monotonic() + _RELOAD_EVERY_S
        users = self._file.users()
        usable = [
            user
            for user in users
            if isinstance(user, str)  # it reads the file as UTF-8: always
            and _CONTEXT.identify(self._file.get_hash(user), required=False)
        ]
        if not users:
            raise ValueError("it has no entries; add some with: python -m ecsnode.creds --htpasswd")
        if not usable:
            raise ValueError(
                f"none of its {len(users)} entries has a supported hash (apr1-MD5, bcrypt, "
                "{SHA}, sha-crypt; plaintext is refused, as Apache refuses it on Linux)"
            )
        if len(usable) < len(users):
            log.warning(
                "%s: %d of %d entries have no supported hash and can never verify",
                path, len(users) - len(usable), len(users),
            )  # fmt: skip

    def remembered(self, header: str | None) -> str | None:
        """The key of a header that verified before (the fast path of every request)."""
        now = time.monotonic()
        if now >= self._next_reload:
            self._next_reload = now + _RELOAD_EVERY_S
            self._reload()
        return self._passed.get(header) if header else None

    async def verify(self, header: str | None) -> str | None:
        """The verified key, or None; hashing runs in a thread so bcrypt cannot stall the loop."""
        credentials = decode_basic(header)
        if credentials is None or header is None:
            return None
        key, secret = credentials
        self._reload()
        loop = asyncio.get_running_loop()
        if not await loop.run_in_executor(None, self._check, key, secret):
            return None
        if len(self._passed) >= _CACHE_CAP:
            self._passed.clear()
        self._passed[header] = key
        return key

    def _check(self, key: str, secret: str) -> bool:
        try:
            return bool(self._file.check_password(key, secret))
        except (ValueError, MissingBackendError) as error:
            log.warning("cannot verify key %s against %s: %s", key, self.path, error)
            return False

    def _reload(self) -> None:
        try:
            changed = self._file.load_if_changed()
        except (OSError, ValueError) as error:
            log.warning("kept the old credentials: cannot re-read %s: %s", self.path, error)
            return
        if changed:
            self._passed.clear()
            log.info("re-read %s: %d keys", self.path, len(self._file.users()))

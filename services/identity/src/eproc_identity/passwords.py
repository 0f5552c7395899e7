"""Password hashing (argon2id) and the password policy (R-REG-3)."""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Iterable

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from eproc_identity.errors import FieldError

MAX_PASSWORD_LENGTH = 1024  # bounds the hashing work an anonymous caller can ask for


class Passwords:
    """argon2id hashing off the event loop (hashing is deliberately slow)."""

    def __init__(self, *, time_cost: int, memory_cost: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID
        )
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        try:
            return await asyncio.to_thread(self._hasher.verify, password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def verify_nobody(self, password: str) -> None:
        """Spend the same time as a real check, so an unknown username does not
        answer faster than a known one."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash("not a password of anyone")
        await self.verify(self._dummy_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        """The hash was made with other parameters than the configured ones."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def password_problems(
    password: str, *, username: str, names: Iterable[str], min_length: int
) -> list[FieldError]:
    """What is wrong with ``password`` for this user: too short, too long, or
    containing the username or a name (case- and accent-insensitively)."""
    problems: list[FieldError] = []
    if len(password) < min_length:
        problems.append(
            FieldError(
                "password",
                "password_too_short",
                f"The password must be at least {min_length} characters long.",
            )
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(
            FieldError(
                "password",
                "password_too_long",
                f"The password must be at most {MAX_PASSWORD_LENGTH} characters long.",
            )
        )
    folded = _fold(password)
    if username and _fold(username) in folded:
        problems.append(
            FieldError(
                "password",
                "password_contains_username",
                "The password must not contain the username.",
            )
        )
    # Each part of a composed name counts ("Jan-Pieter", "Van den Berg"); very
    # short parts ("de", "Li") would forbid too much and guess too little.
    parts = {p for name in names for p in _fold(name).replace("-", " ").split() if len(p) >= 3}
    if any(part in folded for part in parts):
        problems.append(
            FieldError(
                "password", "password_contains_name", "The password must not contain your name."
            )
        )
    return problems

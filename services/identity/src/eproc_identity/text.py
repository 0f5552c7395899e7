"""Folding text for searches: case- and accent-free ("Dupré" ~ "dupre")."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable


def fold(text: str) -> str:
    """Case- and accent-free form of ``text``, for searching ("Dupré" ~ "dupre")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


ACCOUNT_SEARCH_FIELDS = ("given_name", "family_name", "username", "email")
"""What the operators' account search finds a user by (R-OP-1)."""


def account_search_text(values: dict[str, object]) -> str:
    """The folded text of a user's searchable fields, one per line."""
    return "\n".join(fold(str(values[f])) for f in ACCOUNT_SEARCH_FIELDS if values.get(f))


def search_terms(query: str) -> Iterable[str]:
    return fold(query).split()

"""The records the dataset generator produces."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LANGUAGES = ("nl", "fr", "de", "en")


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address, written in one language (the one used on the spot)."""

    street: str
    number: str
    postcode: str
    municipality: str


@dataclass(frozen=True, slots=True)
class OrganisationSeed:
    """One organisation of the generated directory.

    ``names`` holds only the languages the organisation is really named in (among nl, fr,
    de, en), its main language first: nl, fr, de, en for federal bodies, nl then fr in
    Brussels, de then fr in the German-speaking municipalities. ``parent_key`` is None
    for the roots (the federal government, the regions and the communities).
    """

    key: str
    parent_key: str | None
    kind: str
    names: dict[str, str]
    enterprise_number: str
    address: Address

    # Hash by key: the dict field makes the generated hash fail, and the key identifies
    # the organisation anyway.
    def __hash__(self) -> int:
        return hash(self.key)

    @property
    def name(self) -> str:
        """The name in the organisation's main language."""
        return next(iter(self.names.values()))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "key": self.key,
            "parent_key": self.parent_key,
            "kind": self.kind,
            "names": dict(self.names),
            "enterprise_number": self.enterprise_number,
            "address": {
                "street": self.address.street,
                "number": self.address.number,
                "postcode": self.address.postcode,
                "municipality": self.address.municipality,
            },
        }

"""The real part of the tree: bodies that exist, in an order good for small samples.

Every real organisation is built (about 1,950 of them), then sorted so that any prefix
of the list is a balanced sample (some federal, some regional, the big cities first)
with parents always before their children.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from .municipalities import (
    BXL,
    MAJOR_MUNICIPALITIES,
    MUNICIPALITIES,
    MUNICIPALITY_BY_NAME,
    Municipality,
)
from .names import (
    DIRECTORATES,
    FEDERAL_DEPARTMENTS,
    FEDERAL_GOVERNMENT,
    FIRE_ZONES,
    HOSPITALS,
    INTERMUNICIPAL,
    NAMED_POLICE_ZONES,
    PROVINCES,
    REGIONAL_BODIES,
    REGIONS_AND_COMMUNITIES,
    STAFF_DIRECTORATES,
    UNIVERSITIES,
    UNIVERSITY_COLLEGES,
    Federal,
)
from .text import french_of, slugify

T = TypeVar("T")
# A police zone: slug, names, member municipalities.
_Zone = tuple[str, dict[str, str], list[Municipality]]

FEDERAL_KEY = "federal"

# Share of each stream in a prefix of the real part: out of every ~36 organisations,
# about 10 are municipalities, 6 CPAS, 3 federal departments, and so on.
_CORE_WEIGHTS: dict[str, float] = {
    "root": 1000.0,
    "department": 3.0,
    "province": 5.0,
    "municipality": 10.0,
    "cpas": 6.0,
    "university": 1.5,
    "directorate": 2.0,
    "police_zone": 2.0,
    "agency": 2.0,
    "university_college": 1.0,
    "hospital": 1.0,
    "intermunicipal": 1.0,
    "fire_zone": 0.8,
}
_STREAM_RANK = {name: rank for rank, name in enumerate(_CORE_WEIGHTS)}

# Cities large enough to form a police zone on their own.
_SINGLE_ZONE_CITIES = frozenset(MAJOR_MUNICIPALITIES[:30])


@dataclass(slots=True)
class Draft:
    """An organisation before it gets its enterprise number and address."""

    key: str
    parent_key: str | None
    kind: str
    names: dict[str, str]
    place: Municipality
    stream: str
    # A real address: street per language and house number; else one is made up.
    seat: tuple[dict[str, str], str] | None = None
    town_hall: bool = False
    depth: int = 0
    priority: float = 0.0


def federal_names(names: Federal) -> dict[str, str]:
    """A federal (nl, fr, de, en) tuple as a names dict."""
    return dict(zip(("nl", "fr", "de", "en"), names, strict=True))


def municipality_order(seed: int) -> list[Municipality]:
    """The major cities by size, then the other municipalities in a seeded order."""
    majors = [MUNICIPALITY_BY_NAME[name] for name in MAJOR_MUNICIPALITIES]
    major_set = set(MAJOR_MUNICIPALITIES)
    rest = [m for m in MUNICIPALITIES if m.name not in major_set]
    random.Random(f"{seed}:municipalities").shuffle(rest)
    return majors + rest


def municipality_key(municipality: Municipality) -> str:
    """The key of a municipality: ``municipality/<slug of its first name>``."""
    return f"municipality/{slugify(municipality.name)}"


def cpas_names(municipality: Municipality) -> dict[str, str]:
    """Names of the public social welfare centre (OCMW/CPAS/ÖSHZ) of a municipality."""
    names = {}
    for language, place in municipality.names.items():
        if language == "nl":
            names["nl"] = f"OCMW {place}"
        elif language == "fr":
            names["fr"] = f"CPAS {french_of(place)}"
        else:
            names["de"] = f"ÖSHZ {place}"
    return names


def _round_robin(rows: Iterable[T], group_of: Callable[[T], str]) -> list[T]:
    """Interleave rows by group (first of each group, then second...), keeping order."""
    groups: dict[str, list[T]] = {}
    for row in rows:
        groups.setdefault(group_of(row), []).append(row)
    ordered = [
        (i, g, row) for g, members in enumerate(groups.values()) for i, row in enumerate(members)
    ]
    return [row for _, _, row in sorted(ordered, key=lambda item: item[:2])]


class CoreBuilder:
    """Builds the real organisations in creation order (parents first)."""

    def __init__(self, seed: int) -> None:
        self.drafts: list[Draft] = []
        self.by_key: dict[str, Draft] = {}
        self._counts: dict[str, int] = {}
        self.order = municipality_order(seed)
        self.rank_of = {m.name: i for i, m in enumerate(self.order)}
        self.police_zone_of: dict[str, str] = {}
        # Line directorates only: the staff services sit at the head office.
        self.directorate_keys: list[str] = []
        self.agency_keys: list[str] = []
        self.university_keys: list[str] = []

    def add(self, draft: Draft, index: float | None = None) -> Draft:
        """Register a draft; ``index`` is its position in its stream (default: next)."""
        if draft.key in self.by_key:
            raise ValueError(f"duplicate key {draft.key}")
        position = self._counts.get(draft.stream, 0)
        self._counts[draft.stream] = position + 1
        base = ((position if index is None else index) + 1) / _CORE_WEIGHTS[draft.stream]
        if draft.parent_key is None:
            draft.priority = base
        else:
            parent = self.by_key[draft.parent_key]
            draft.depth = parent.depth + 1
            # Never before the parent: a child inherits a later priority if needed.
            draft.priority = max(base, parent.priority)
        self.drafts.append(draft)
        self.by_key[draft.key] = draft
        return draft

    def build(self) -> list[Draft]:
        """All real organisations, sorted for output."""
        self._roots()
        self._federal()
        self._provinces_and_municipalities()
        self._police_zones()
        self._regional_bodies()
        self._education_and_health()
        self._intermunicipal_and_fire()
        return sorted(
            self.drafts,
            key=lambda d: (d.priority, d.depth, _STREAM_RANK[d.stream]),
        )

    def _roots(self) -> None:
        brussels = MUNICIPALITY_BY_NAME["Brussel"]
        self.add(
            Draft(
                FEDERAL_KEY,
                None,
                "federal_government",
                federal_names(FEDERAL_GOVERNMENT),
                brussels,
                "root",
                seat=({"nl": "Wetstraat", "fr": "Rue de la Loi"}, "16"),
            )
        )
        for slug, kind, names, seat in REGIONS_AND_COMMUNITIES:
            self.add(
                Draft(f"{kind}/{slug}", None, kind, dict(names), MUNICIPALITY_BY_NAME[seat], "root")
            )

    def _federal(self) -> None:
        lines: list[list[tuple[str, str, Federal]]] = []
        for slug, kind, names, (street_nl, street_fr, number, seat) in FEDERAL_DEPARTMENTS:
            key = f"{FEDERAL_KEY}/{slug}"
            self.add(
                Draft(
                    key,
                    FEDERAL_KEY,
                    kind,
                    federal_names(names),
                    MUNICIPALITY_BY_NAME[seat],
                    "department",
                    seat=({"nl": street_nl, "fr": street_fr}, number),
                )
            )
            if kind == "federal_agency":
                continue
            rows = [*DIRECTORATES.get(slug, ()), *STAFF_DIRECTORATES]
            lines.append([(key, sub_slug, sub_names) for sub_slug, sub_names in rows])
        # Round robin over the departments, so that a small sample spreads its
        # directorates over several departments.
        position = 0
        for depth in range(max(len(department) for department in lines)):
            for department in lines:
                if depth < len(department):
                    parent, sub_slug, sub_names = department[depth]
                    key = f"directorate/{parent.removeprefix(FEDERAL_KEY + '/')}/{sub_slug}"
                    self.add(
                        Draft(
                            key,
                            parent,
                            "directorate",
                            federal_names(sub_names),
                            self.by_key[parent].place,
                            "directorate",
                        ),
                        index=position,
                    )
                    if not any(sub_slug == staff for staff, _ in STAFF_DIRECTORATES):
                        self.directorate_keys.append(key)
                    position += 1

    def _provinces_and_municipalities(self) -> None:
        for code, region, names, capital in PROVINCES:
            self.add(
                Draft(
                    f"province/{code.lower()}",
                    f"region/{region}",
                    "province",
                    dict(names),
                    MUNICIPALITY_BY_NAME[capital],
                    "province",
                )
            )
        for municipality in self.order:
            parent = (
                "region/brussels-region"
                if municipality.area == BXL
                else f"province/{(municipality.province or '').lower()}"
            )
            self.add(
                Draft(
                    municipality_key(municipality),
                    parent,
                    "municipality",
                    dict(municipality.names),
                    municipality,
                    "municipality",
                    town_hall=True,
                )
            )
        for municipality in self.order:
            self.add(
                Draft(
                    f"cpas/{slugify(municipality.name)}",
                    municipality_key(municipality),
                    "cpas",
                    cpas_names(municipality),
                    municipality,
                    "cpas",
                )
            )

    def _police_zones(self) -> None:
        zones: list[_Zone] = []
        named: set[str] = set()
        for slug, names, member_names in NAMED_POLICE_ZONES:
            zones.append((slug, dict(names), [MUNICIPALITY_BY_NAME[m] for m in member_names]))
            named.update(member_names)
        for code, *_ in PROVINCES:
            zones.extend(self._grouped_zones(code, named))
        # The zone of the biggest city first.
        zones.sort(key=lambda zone: min(self.rank_of[m.name] for m in zone[2]))
        for slug, names, members in zones:
            seat = min(members, key=lambda m: self.rank_of[m.name])
            parent = (
                "region/brussels-region"
                if seat.area == BXL
                else f"province/{(seat.province or '').lower()}"
            )
            key = f"police_zone/{slug}"
            self.add(Draft(key, parent, "police_zone", names, seat, "police_zone"))
            for member in members:
                self.police_zone_of[member.name] = key

    @staticmethod
    def _grouped_zones(province: str, named: set[str]) -> list[_Zone]:
        # Neighbours by postcode, grouped by three; big cities alone.
        rest = sorted(
            (m for m in MUNICIPALITIES if m.province == province and m.name not in named),
            key=lambda m: m.postcode,
        )
        groups: list[list[Municipality]] = []
        group: list[Municipality] = []
        for municipality in rest:
            if municipality.name in _SINGLE_ZONE_CITIES:
                groups.append([municipality])
                continue
            group.append(municipality)
            if len(group) == 3:
                groups.append(group)
                group = []
        if len(group) == 1 and groups and len(groups[-1]) == 3:
            # A lone leftover joins the previous group rather than forming a zone.
            groups[-1].extend(group)
        elif group:
            groups.append(group)
        zones = []
        for members in groups:
            language = next(iter(members[0].names))
            joined = "/".join(m.names[language] for m in members)
            prefix = "Politiezone" if language == "nl" else "Zone de police"
            zones.append((slugify(members[0].name), {language: f"{prefix} {joined}"}, members))
        return zones

    def _regional_bodies(self) -> None:
        for parent_slug, slug, names, seat in _round_robin(REGIONAL_BODIES, lambda row: row[0]):
            parent_kind = "region" if parent_slug.endswith("region") else "community"
            key = f"agency/{parent_slug}/{slug}"
            self.add(
                Draft(
                    key,
                    f"{parent_kind}/{parent_slug}",
                    "regional_agency" if parent_kind == "region" else "community_agency",
                    dict(names),
                    MUNICIPALITY_BY_NAME[seat],
                    "agency",
                )
            )
            self.agency_keys.append(key)

    def _education_and_health(self) -> None:
        for slug, community, names, seat in UNIVERSITIES:
            key = f"university/{slug}"
            self.add(
                Draft(
                    key,
                    f"community/{community}",
                    "university",
                    dict(names),
                    MUNICIPALITY_BY_NAME[seat],
                    "university",
                )
            )
            self.university_keys.append(key)
        for slug, parent, names, seat in UNIVERSITY_COLLEGES:
            self.add(
                Draft(
                    f"university_college/{slug}",
                    parent,
                    "university_college",
                    dict(names),
                    MUNICIPALITY_BY_NAME[seat],
                    "university_college",
                )
            )
        for slug, parent, names, seat in HOSPITALS:
            self.add(
                Draft(
                    f"hospital/{slug}",
                    parent,
                    "hospital",
                    dict(names),
                    MUNICIPALITY_BY_NAME[seat],
                    "hospital",
                )
            )

    def _intermunicipal_and_fire(self) -> None:
        regions = {f"province/{code.lower()}": region for code, region, *_ in PROVINCES}
        rows = _round_robin(INTERMUNICIPAL, lambda row: regions.get(row[1], row[1]))
        for slug, parent, names, seat in rows:
            self.add(
                Draft(
                    f"intermunicipal/{slug}",
                    parent,
                    "intermunicipal",
                    dict(names),
                    MUNICIPALITY_BY_NAME[seat],
                    "intermunicipal",
                )
            )
        for slug, province, names, seat in FIRE_ZONES:
            self.add(
                Draft(
                    f"fire_zone/{slug}",
                    f"province/{province.lower()}",
                    "fire_zone",
                    dict(names),
                    MUNICIPALITY_BY_NAME[seat],
                    "fire_zone",
                )
            )

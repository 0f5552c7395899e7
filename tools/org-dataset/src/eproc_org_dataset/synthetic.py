"""The synthetic part of the tree: an endless, seeded stream of plausible organisations.

Each stream (municipal schools, church fabrics, federal offices, ...) draws from its own
random generator, so the streams do not disturb each other, and names its organisations
from a counter per parent: the n-th school of Sint-Niklaas always gets the same name.
Every synthetic organisation hangs under a real one, or under an organisation of the same
stream emitted before it, so parents always come first.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable, Iterator
from itertools import accumulate

from .core import CoreBuilder, Draft, municipality_key
from .municipalities import BXL, DE, FR, MUNICIPALITY_BY_NAME, NL, Municipality
from .names import COMMUNITY_SCHOOL_BOARDS, FEDERAL_OFFICE_CITIES, FEDERAL_SERVICE_TOPICS
from .text import french_of, french_of_noun, slugify
from .vocabulary import (
    AUTONOMOUS_COMPANIES,
    COMMUNITY_SCHOOL_FORMATS,
    CPAS_SERVICES,
    DEPARTMENTS,
    FACULTIES,
    LABELS,
    MUNICIPAL_SCHOOL_TYPES,
    MUNICIPAL_SERVICES,
    POLICE_POSTS,
    PROVINCIAL_SCHOOL_FORMATS,
    QUARTERS,
    REGIONAL_TOPICS,
    SAINTS,
    Trio,
)

_TRIO_INDEX = {"nl": 0, "fr": 1, "de": 2}

UNIVERSITY_SHORT_NAMES = {
    "university/ugent": "UGent",
    "university/uliege": "ULiège",
    "university/kuleuven": "KU Leuven",
    "university/uclouvain": "UCLouvain",
    "university/ulb": "ULB",
    "university/vub": "VUB",
    "university/uantwerpen": "UAntwerpen",
    "university/umons": "UMONS",
    "university/uhasselt": "UHasselt",
    "university/unamur": "UNamur",
    "university/usaintlouis": "UCLouvain Saint-Louis",
}


def _numbered(name: str, cycle: int) -> str:
    # Once every combination of words is used for a parent, further organisations are
    # numbered: "École communale de Liège - Les Tilleuls 2".
    return name if cycle == 0 else f"{name} {cycle + 1}"


def _fill(template: str, language: str, place: Municipality, **words: str) -> str:
    name = place.names.get(language) or place.name
    return template.format(place=name, de_place=french_of(name), **words)


class _Streams:
    """The synthetic streams over one set of real organisations."""

    def __init__(self, core: CoreBuilder, seed: int) -> None:
        self.core = core
        self.seed = seed
        self.order = core.order
        # Bigger places get more schools, services and parishes: the 20 largest weigh
        # 8, the other listed cities 4, every other municipality 1.
        weights = [8 if i < 20 else 4 if i < 50 else 1 for i in range(len(self.order))]
        self.cumulative = list(accumulate(weights))
        self.by_area: dict[str, list[Municipality]] = {}
        for municipality in self.order:
            self.by_area.setdefault(municipality.area, []).append(municipality)
        # Offsets so that the first school of each place does not get the same label.
        self.spread = {m.name: i * 37 for i, m in enumerate(self.order)}
        self.slugs = {m.name: slugify(m.name) for m in self.order}

    def _rng(self, stream: str) -> random.Random:
        return random.Random(f"{self.seed}:{stream}")

    def _municipality(self, rng: random.Random) -> Municipality:
        return rng.choices(self.order, cum_weights=self.cumulative)[0]

    def municipal_schools(self) -> Iterator[Draft]:
        """Schools run by a municipality, in its teaching language."""
        rng = self._rng("municipal_school")
        counters: dict[tuple[str, str], int] = {}
        combos = [(t, label) for label in LABELS for t in MUNICIPAL_SCHOOL_TYPES]
        for _ in itertools.count():
            place = self._municipality(rng)
            language = _teaching_language(place, rng)
            count = counters.get((place.name, language), 0)
            counters[place.name, language] = count + 1
            index = (count + self.spread[place.name]) % len(combos)
            cycle = count // len(combos)
            kind, label = combos[index]
            i = _TRIO_INDEX[language]
            name = place.names.get(language, place.name)
            if language == "nl":
                text = f"{kind[i]} {label[i]} {name}"
            elif language == "fr":
                text = f"{kind[i]} {french_of(name)} - {label[i]}"
            else:
                text = f"{kind[i]} {name} - {label[i]}"
            parent = municipality_key(place)
            yield Draft(
                f"{parent}/school-{language}{count}",
                parent,
                "school",
                {language: _numbered(text, cycle)},
                place,
                "municipal_school",
            )

    def community_schools(self) -> Iterator[Draft]:
        """Schools of the communities (GO!, WBE, the German-speaking Community)."""
        rng = self._rng("community_school")
        areas = {NL: [NL, BXL], FR: [FR, BXL], DE: [DE]}
        pools = {lang: [m for a in area for m in self.by_area[a]] for lang, area in areas.items()}
        counters: dict[tuple[str, str], int] = {}
        for _ in itertools.count():
            language = rng.choices((NL, FR, DE), weights=(50, 46, 4))[0]
            place = rng.choice(pools[language])
            count = counters.get((place.name, language), 0)
            counters[place.name, language] = count + 1
            formats = COMMUNITY_SCHOOL_FORMATS[language]
            cycle, index = divmod(count, len(formats))
            label = LABELS[(count + self.spread[place.name]) % len(LABELS)]
            text = _fill(formats[index], language, place, label=label[_TRIO_INDEX[language]])
            parent = COMMUNITY_SCHOOL_BOARDS[language]
            yield Draft(
                f"{parent}/school-{self.slugs[place.name]}-{count}",
                parent,
                "school",
                {language: _numbered(text, cycle)},
                place,
                "community_school",
            )

    def provincial_schools(self) -> Iterator[Draft]:
        """Schools run by a province."""
        rng = self._rng("provincial_school")
        counters: dict[str, int] = {}
        for _ in itertools.count():
            place = self._municipality(rng)
            if place.province is None:
                continue  # Brussels has no province.
            language = NL if place.area == NL else FR
            count = counters.get(place.name, 0)
            counters[place.name] = count + 1
            formats = PROVINCIAL_SCHOOL_FORMATS[language]
            cycle, index = divmod(count, len(formats))
            parent = f"province/{(place.province or '').lower()}"
            yield Draft(
                f"{parent}/school-{self.slugs[place.name]}-{count}",
                parent,
                "school",
                {language: _numbered(_fill(formats[index], language, place), cycle)},
                place,
                "provincial_school",
            )

    def _per_municipality(
        self,
        stream: str,
        kind: str,
        parent_of: Callable[[Municipality], str],
        name_of: Callable[[Municipality, str, int], str],
    ) -> Iterator[Draft]:
        # Organisations named in every language of their municipality.
        rng = self._rng(stream)
        counters: dict[str, int] = {}
        for _ in itertools.count():
            place = self._municipality(rng)
            count = counters.get(place.name, 0)
            counters[place.name] = count + 1
            parent = parent_of(place)
            names = {language: name_of(place, language, count) for language in place.names}
            # The place is in the key because a police zone has several municipalities.
            key = f"{parent}/{stream}-{self.slugs[place.name]}-{count}"
            yield Draft(key, parent, kind, names, place, stream)

    def church_fabrics(self) -> Iterator[Draft]:
        """Church fabrics (kerkfabrieken / fabriques d'église), one per parish."""

        def name_of(place: Municipality, language: str, count: int) -> str:
            cycle = count // len(SAINTS)
            saint = SAINTS[(count + self.spread[place.name]) % len(SAINTS)][_TRIO_INDEX[language]]
            template = {
                "nl": "Kerkfabriek {saint} {place}",
                "fr": "Fabrique d'église {saint} {de_place}",
                "de": "Kirchenfabrik {saint} {place}",
            }[language]
            return _numbered(_fill(template, language, place, saint=saint), cycle)

        return self._per_municipality("church_fabric", "church_fabric", municipality_key, name_of)

    def municipal_services(self) -> Iterator[Draft]:
        """Departments of a municipal administration."""
        return self._per_municipality(
            "service",
            "service",
            municipality_key,
            lambda place, language, count: _trio_name(MUNICIPAL_SERVICES, place, language, count),
        )

    def cpas_services(self) -> Iterator[Draft]:
        """Rest homes, day-care centres and service centres of a CPAS/OCMW."""

        def name_of(place: Municipality, language: str, count: int) -> str:
            label = LABELS[(count // len(CPAS_SERVICES) + self.spread[place.name]) % len(LABELS)]
            return _trio_name(
                CPAS_SERVICES,
                place,
                language,
                count,
                label=label[_TRIO_INDEX[language]],
                period=len(CPAS_SERVICES) * len(LABELS),
            )

        return self._per_municipality(
            "care_facility",
            "care_facility",
            lambda place: f"cpas/{self.slugs[place.name]}",
            name_of,
        )

    def autonomous_companies(self) -> Iterator[Draft]:
        """Autonomous municipal companies (AGB / régie communale autonome)."""
        return self._per_municipality(
            "amc",
            "autonomous_municipal_company",
            municipality_key,
            lambda place, language, count: _trio_name(AUTONOMOUS_COMPANIES, place, language, count),
        )

    def police_stations(self) -> Iterator[Draft]:
        """Neighbourhood police stations of a police zone."""

        def name_of(place: Municipality, language: str, count: int) -> str:
            cycle, index = divmod(count, len(QUARTERS))
            quarter = QUARTERS[index][_TRIO_INDEX[language]]
            template = POLICE_POSTS[_TRIO_INDEX[language]]
            return _numbered(_fill(template, language, place, quarter=quarter), cycle)

        zone_of = self.core.police_zone_of
        return self._per_municipality(
            "police_station", "police_station", lambda place: zone_of[place.name], name_of
        )

    def federal_services(self) -> Iterator[Draft]:
        """Regional offices and units of the federal directorates."""
        rng = self._rng("federal_service")
        counters: dict[str, int] = {}
        directorates = self.core.directorate_keys
        offsets = {key: i * 7 for i, key in enumerate(directorates)}
        cities = len(FEDERAL_OFFICE_CITIES)
        for _ in itertools.count():
            parent = rng.choice(directorates)
            count = counters.get(parent, 0)
            counters[parent] = count + 1
            cycle = count // cities
            city_key, city = FEDERAL_OFFICE_CITIES[(count + offsets[parent]) % cities]
            directorate = self.core.by_key[parent].names
            names = {}
            for i, language in enumerate(("nl", "fr", "de", "en")):
                place = city[i] if language != "fr" else french_of(city[i])
                if cycle == 0:
                    names[language] = f"{directorate[language]} - {city[i]}"
                else:
                    topic_cycle, topic = divmod(cycle - 1, len(FEDERAL_SERVICE_TOPICS))
                    words = f"{FEDERAL_SERVICE_TOPICS[topic][i]} {place}"
                    names[language] = _numbered(f"{directorate[language]} - {words}", topic_cycle)
            yield Draft(
                f"{parent}/office-{count}",
                parent,
                "service",
                names,
                MUNICIPALITY_BY_NAME[city_key],
                "federal_service",
            )

    def regional_services(self) -> Iterator[Draft]:
        """District offices and divisions of the regional and community agencies."""
        rng = self._rng("regional_service")
        counters: dict[str, int] = {}
        agencies = self.core.agency_keys
        places = {key: self._agency_places(key) for key in agencies}
        for _ in itertools.count():
            parent = rng.choice(agencies)
            count = counters.get(parent, 0)
            counters[parent] = count + 1
            pool = places[parent]
            cycle, index = divmod(count, len(pool))
            place = pool[index]
            agency = self.core.by_key[parent].names
            names = {}
            for language, agency_name in agency.items():
                name = place.names.get(language, place.name)
                if cycle == 0:
                    names[language] = f"{agency_name} - {name}"
                    continue
                topic_cycle, topic = divmod(cycle - 1, len(REGIONAL_TOPICS))
                words = REGIONAL_TOPICS[topic][_TRIO_INDEX[language]]
                where = french_of(name) if language == "fr" else name
                names[language] = _numbered(f"{agency_name} - {words} {where}", topic_cycle)
            key = f"{parent}/unit-{count}"
            yield Draft(key, parent, "service", names, place, "regional_service")

    def _agency_places(self, agency_key: str) -> list[Municipality]:
        # Offices of an agency lie where its language is spoken; the 25 biggest places.
        owner = agency_key.split("/")[1]
        areas = {
            "flemish-region": (NL,),
            "walloon-region": (FR, DE),
            "brussels-region": (BXL,),
            "flemish-community": (NL, BXL),
            "french-community": (FR, BXL),
            "german-community": (DE,),
        }[owner]
        languages = set(self.core.by_key[agency_key].names)
        pool = [
            m for m in self.order if m.area in areas and (m.area != DE or languages & set(m.names))
        ]
        return pool[:25]

    def university_units(self) -> Iterator[Draft]:
        """Faculties, then departments, of the universities."""
        rng = self._rng("university_unit")
        counters: dict[str, int] = {}
        universities = self.core.university_keys
        for _ in itertools.count():
            parent = rng.choice(universities)
            count = counters.get(parent, 0)
            counters[parent] = count + 1
            language = "nl" if "nl" in self.core.by_key[parent].names else "fr"
            short = UNIVERSITY_SHORT_NAMES[parent]
            i = 0 if language == "nl" else 1
            if count < len(FACULTIES):
                kind, text = "faculty", f"{FACULTIES[count][i]} - {short}"
            else:
                cycle, index = divmod(count - len(FACULTIES), len(DEPARTMENTS))
                discipline = DEPARTMENTS[index][i]
                if i == 0:
                    words = f"Vakgroep {discipline}"
                else:
                    words = f"Département {french_of_noun(discipline)}"
                kind, text = "department", _numbered(f"{words} - {short}", cycle)
            yield Draft(
                f"{parent}/unit-{count}",
                parent,
                kind,
                {language: text},
                self.core.by_key[parent].place,
                "university_unit",
            )


def _teaching_language(place: Municipality, rng: random.Random) -> str:
    if place.area == BXL:
        # Brussels municipalities run both French- and Dutch-speaking schools.
        return FR if rng.random() < 0.65 else NL
    return {NL: NL, FR: FR, DE: DE}[place.area]


def _trio_name(
    templates: tuple[Trio, ...],
    place: Municipality,
    language: str,
    count: int,
    period: int | None = None,
    **words: str,
) -> str:
    cycle = count // (period or len(templates))
    template = templates[count % len(templates)][_TRIO_INDEX[language]]
    return _numbered(_fill(template, language, place, **words), cycle)


# (stream, weight): out of every 94 synthetic organisations, 26 are municipal schools...
STREAM_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("municipal_schools", 26),
    ("municipal_services", 16),
    ("church_fabrics", 16),
    ("cpas_services", 10),
    ("regional_services", 7),
    ("community_schools", 6),
    ("federal_services", 6),
    ("police_stations", 3),
    ("provincial_schools", 2),
    ("university_units", 1),
    ("autonomous_companies", 1),
)


def synthetic_drafts(core: CoreBuilder, seed: int) -> Iterator[Draft]:
    """The endless synthetic stream: the streams merged by their weights."""
    streams = _Streams(core, seed)

    def weighted(rank: int, name: str, weight: float) -> Iterator[tuple[float, int, Draft]]:
        for index, draft in enumerate(getattr(streams, name)()):
            yield (index + 1) / weight, rank, draft

    merged = heapq.merge(
        *(weighted(rank, name, weight) for rank, (name, weight) in enumerate(STREAM_WEIGHTS))
    )
    return (draft for _, _, draft in merged)

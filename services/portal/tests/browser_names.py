"""Realistic Belgian names for the browser tests' people and organisations, so that
the pages (and ``make screenshots``) read as the platform's users would see them:
"Stad Kortrijk", "CPAS de Courtrai", "els.maes@kortrijk.be", never a test's random
suffix. The browser tests share one set of fresh databases per session, so every
organisation takes a city of its own: ``browser_app`` hands them out in order from
``CITIES``; a test that must know its organisation's name picks one of ``RESERVED``
(never handed out), each test its own."""

from __future__ import annotations

import itertools
import unicodedata
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    """A Belgian municipality by its Dutch, French and German names."""

    nl: str
    fr: str
    de: str

    def city(self) -> dict[str, str]:
        """The municipality itself (a city council), in each language."""
        return {"nl": f"Stad {self.nl}", "fr": _of("Ville", self.fr), "de": f"Stadt {self.de}"}

    def body(self, index: int) -> dict[str, str]:
        """The city (0), then bodies of the city: its public social welfare centre
        (1), its police zone (2), its emergency zone (3)."""
        if index == 0:
            return self.city()
        kinds = (
            {"nl": f"OCMW {self.nl}", "fr": _of("CPAS", self.fr), "de": f"ÖSHZ {self.de}"},
            {
                "nl": f"Politiezone {self.nl}",
                "fr": _of("Zone de police", self.fr),
                "de": f"Polizeizone {self.de}",
            },
            {
                "nl": f"Hulpverleningszone {self.nl}",
                "fr": _of("Zone de secours", self.fr),
                "de": f"Hilfeleistungszone {self.de}",
            },
        )
        return kinds[(index - 1) % len(kinds)]

    def emergency_zone(self) -> dict[str, str]:
        """Another body in the directory, one that a test's user does not belong to."""
        return self.body(3)

    @property
    def domain(self) -> str:
        return f"{ascii_slug(self.nl)}.be"


def _of(kind: str, name: str) -> str:
    """French elision: "Ville d'Anvers", "Ville de Gand"."""
    return f"{kind} d'{name}" if name[0] in "AEIOUYÉ" else f"{kind} de {name}"


def ascii_slug(text: str, separator: str = "-") -> str:
    """``Sint-Truiden`` → ``sint-truiden``; ``Géraldine`` → ``geraldine``."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return separator.join(plain.lower().replace("'", " ").replace("-", " ").split())


CITIES = [
    City("Aalst", "Alost", "Aalst"),
    City("Antwerpen", "Anvers", "Antwerpen"),
    City("Brugge", "Bruges", "Brügge"),
    City("Mechelen", "Malines", "Mecheln"),
    City("Leuven", "Louvain", "Löwen"),
    City("Ieper", "Ypres", "Ypern"),
    City("Bergen", "Mons", "Bergen"),
    City("Oudenaarde", "Audenarde", "Oudenaarde"),
    City("Ronse", "Renaix", "Ronse"),
    City("Geraardsbergen", "Grammont", "Geraardsbergen"),
    City("Halle", "Hal", "Halle"),
    City("Tienen", "Tirlemont", "Tienen"),
    City("Sint-Truiden", "Saint-Trond", "Sankt Truiden"),
    City("Tongeren", "Tongres", "Tongern"),
    City("Veurne", "Furnes", "Veurne"),
    City("Diksmuide", "Dixmude", "Diksmuide"),
    City("Menen", "Menin", "Menen"),
    City("Dendermonde", "Termonde", "Dendermonde"),
    City("Lier", "Lierre", "Lier"),
    City("Sint-Niklaas", "Saint-Nicolas", "Sankt Niklaas"),
    City("Vilvoorde", "Vilvorde", "Vilvoorde"),
    City("Oostende", "Ostende", "Ostende"),
    City("Brussel", "Bruxelles", "Brüssel"),
    City("Namen", "Namur", "Namur"),
    City("Aarlen", "Arlon", "Arel"),
    City("Nijvel", "Nivelles", "Nivelles"),
    City("Waver", "Wavre", "Wavre"),
    City("Hoei", "Huy", "Huy"),
    City("Aat", "Ath", "Ath"),
    City("Edingen", "Enghien", "Enghien"),
    City("Zinnik", "Soignies", "Soignies"),
    City("Moeskroen", "Mouscron", "Mouscron"),
    City("Lessen", "Lessines", "Lessines"),
    City("Geldenaken", "Jodoigne", "Jodoigne"),
    City("Borgworm", "Waremme", "Waremme"),
    City("Hannuit", "Hannut", "Hannut"),
    City("Bastenaken", "Bastogne", "Bastogne"),
    City("Kelmis", "La Calamine", "Kelmis"),
    City("Sankt Vith", "Saint-Vith", "Sankt Vith"),
    City("Spa", "Spa", "Spa"),
    City("Dinant", "Dinant", "Dinant"),
    City("Verviers", "Verviers", "Verviers"),
    City("Charleroi", "Charleroi", "Charleroi"),
    City("Genk", "Genk", "Genk"),
    City("Hasselt", "Hasselt", "Hasselt"),
    City("Zottegem", "Zottegem", "Zottegem"),
    City("Roeselare", "Roulers", "Roeselare"),
    City("Waregem", "Waregem", "Waregem"),
]
"""Handed out in order, one per organisation tree a test's login seeds."""

RESERVED = {
    city.nl: city
    for city in (
        City("Gent", "Gand", "Gent"),
        City("Luik", "Liège", "Lüttich"),
        City("Eupen", "Eupen", "Eupen"),
        City("Kortrijk", "Courtrai", "Kortrijk"),
        City("Doornik", "Tournai", "Doornik"),
        City("Malmedy", "Malmedy", "Malmedy"),
        City("Turnhout", "Turnhout", "Turnhout"),
        City("Knokke-Heist", "Knokke-Heist", "Knokke-Heist"),
    )
}
"""Cities a test names itself (``/_test/login?city=Gent``), never handed out."""


class Names:
    """One browser-test app's supply of cities and account names (unique per session)."""

    def __init__(self) -> None:
        self._cities = itertools.count()
        self._accounts: Counter[str] = Counter()

    def next_city(self) -> City:
        index = next(self._cities)
        city = CITIES[index % len(CITIES)]
        rounds = index // len(CITIES)
        if rounds == 0:
            return city
        # Past the list (a very long session): the same places, numbered.
        return City(f"{city.nl} {rounds + 1}", f"{city.fr} {rounds + 1}", f"{city.de} {rounds + 1}")

    def account(self, given: str, family: str, domain: str) -> tuple[str, str]:
        """A username and an e-mail address, as an organisation would give them:
        ``els.maes`` at ``kortrijk.be``; ``els.maes2`` for the next Els Maes."""
        base = f"{ascii_slug(given, '')}.{ascii_slug(family, '')}"
        self._accounts[base] += 1
        count = self._accounts[base]
        username = base if count == 1 else f"{base}{count}"
        return username, f"{username}@{domain}"

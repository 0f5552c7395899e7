"""Small text helpers: keys and French contractions."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_VOWELS = frozenset("AEIOUYÂÀÉÈÊÎÏÔŒaeiouyâàéèêîïôœ")


def slugify(text: str) -> str:
    """Lower-case ASCII slug: ``Braine-l'Alleud`` -> ``braine-l-alleud``."""
    folded = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("Œ", "Oe"))
    ascii_text = folded.encode("ascii", "ignore").decode().lower()
    return _NON_ALNUM.sub("-", ascii_text).strip("-")


def french_of(place: str) -> str:
    """``de`` + a place name with French contraction: d'Ath, du Rœulx, des Bons Villers."""
    if place.startswith("Le "):
        return "du " + place[3:]
    if place.startswith("Les "):
        return "des " + place[4:]
    if place[0] in _VOWELS:
        return "d'" + place
    return "de " + place


def french_of_noun(noun: str) -> str:
    """``de`` + a common noun, eliding before a vowel or a mute h: d'histoire."""
    if noun[0] in _VOWELS or noun[0] == "h":
        return "d'" + noun
    return "de " + noun

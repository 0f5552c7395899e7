"""Organisation name search (R-ORG-2): case- and accent-insensitive, typo-tolerant, ranked.

Names are normalised in Python (casefolded, accents stripped, punctuation to spaces) and
stored one row per distinct name in ``organisation_name``; the query is normalised the
same way. On PostgreSQL a GIN trigram index (``pg_trgm``) finds the candidates with the
word-similarity operator ``<%`` and ranks them by the mean of similarity and word
similarity, so an exact name beats a longer name that merely contains it. On SQLite (the
embedded mode) the same trigram scores are computed in Python over every name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from uuid import UUID

from sqlalchemy import String, TextClause, bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from eproc_organisations.models import organisation_name
from eproc_runtime.db import is_sqlite

_NON_WORD = re.compile(r"[^0-9a-z]+")


def normalise(value: str) -> str:
    """Lowercase, accents removed, anything but letters and digits turned into one space.

    >>> normalise("Université de Liège")
    'universite de liege'
    >>> normalise("Sint-Niklaas")
    'sint niklaas'
    """
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    # ß, æ, ø and friends have no decomposition; casefold already made ß into ss.
    stripped = stripped.replace("æ", "ae").replace("ø", "o").replace("œ", "oe")
    return _NON_WORD.sub(" ", stripped).strip()


def search_texts(names: Iterable[str | None]) -> list[str]:
    """The distinct normalised forms of an organisation's names."""
    return sorted({n for n in (normalise(name) for name in names if name) if n})


@dataclass(frozen=True)
class Hit:
    organisation_id: UUID
    score: float


def words_of(texts: Iterable[str]) -> set[str]:
    """The words of normalised names worth searching for: three letters or more."""
    return {w[:100] for t in texts for w in t.split() if len(w) >= 3}


# The last resort (no word of the query matches any known word): pg_trgm's word
# similarity over whole names, best name per organisation.
_FUZZY = text(
    """
    SELECT organisation_id, max(score) AS score, min(length) AS length
    FROM (
        SELECT organisation_id,
               (similarity(search_text, :q) + word_similarity(:q, search_text)) / 2 AS score,
               length(search_text) AS length
        FROM organisation_name
        WHERE :q <% search_text
    ) AS candidate
    GROUP BY organisation_id
    ORDER BY score DESC, length, organisation_id
    LIMIT :limit OFFSET :offset
    """
).bindparams(bindparam("q"), bindparam("limit"), bindparam("offset"))

# Known words close to each query word (trigram similarity, the GIN index of search_word),
# all words in one round trip.
_SIMILAR_WORDS = text(
    """
    SELECT typed.word AS typed, known.word AS known, known.frequency AS frequency
    FROM unnest(:words) AS typed(word)
    CROSS JOIN LATERAL (
        SELECT word, frequency FROM search_word
        WHERE word % typed.word
        ORDER BY similarity(word, typed.word) DESC, word
        LIMIT :n
    ) AS known
    """
).bindparams(bindparam("words", type_=ARRAY(String())))
_KNOWN_WORDS = text("SELECT word, frequency FROM search_word WHERE word = ANY(:words)").bindparams(
    bindparam("words", type_=ARRAY(String()))
)
_ALTERNATIVES = 4
# Below pg_trgm's default 0.3: a swap in a short word ("berekn" for "berken") shares few
# trigrams; the vocabulary is small, so a low threshold costs little.
_WORD_SIMILARITY = "0.2"
_POOL = 200
_INDEXED_WORDS = 2


def _matching(groups: list[list[str]], indexed: set[int]) -> tuple[TextClause, dict[str, str]]:
    """Names containing, for every group, at least one of its words; ranked by trigram
    similarity to the query (with every word present, the shortest names rank first).

    Only the ``indexed`` groups (the rarest words) are given to the trigram index; the
    others are checked on the rows it returns. Reading the posting lists of a common
    word's trigrams costs more than checking it on a few rows.
    """
    conditions: list[str] = []
    params: dict[str, str] = {}
    for i, group in enumerate(groups):
        # "search_text || ''" is not indexed: the planner checks it as a filter.
        column = "search_text" if i in indexed else "(search_text || '')"
        alternatives = []
        for j, word in enumerate(group):
            # Normalised words are [0-9a-z] only: nothing to escape in a LIKE pattern.
            params[f"w{i}_{j}"] = f"%{word}%"
            alternatives.append(f"{column} LIKE :w{i}_{j}")
        conditions.append("(" + " OR ".join(alternatives) + ")")
    # Computing similarity for every match of a common word ("service": 17,000 names)
    # costs more than the rest of the search; with every query word present, the shortest
    # names are the most similar ones, so only a pool of the shortest is scored.
    query = text(
        f"""
        SELECT organisation_id, max(similarity(search_text, :q)) AS score,
               min(length(search_text)) AS length
        FROM (
            SELECT organisation_id, search_text FROM organisation_name
            WHERE {" AND ".join(conditions)}
            ORDER BY length(search_text), search_text
            LIMIT :pool
        ) AS shortest
        GROUP BY organisation_id
        ORDER BY score DESC, length, organisation_id
        LIMIT :limit OFFSET :offset
        """  # noqa: S608 - only numbered bind parameter names are interpolated
    )
    return query, params


async def search(session: AsyncSession, query: str, *, offset: int, limit: int) -> list[Hit]:
    """The organisations best matching ``query``, best first; empty for an empty query.

    PostgreSQL: each query word of three letters or more is looked up among the known
    words (``search_word``). A known word stays as typed; an unknown one may be itself (a
    word being typed) or one of the known words closest to it (a typo: "univresite"
    finds "universite"); an unknown word close to nothing is dropped. Names must then
    contain, for every word, one of its spellings (LIKE conditions the trigram index
    answers), ranked by trigram similarity to the query. When that finds nothing, pg_trgm
    word similarity over whole names is the last resort.
    """
    q = normalise(query)
    if not q:
        return []
    if is_sqlite(session):
        return await _search_in_python(session, q, offset=offset, limit=limit)
    page = {"q": q, "limit": limit, "offset": offset}
    words = [w for w in dict.fromkeys(q.split()) if len(w) >= 3]
    if words:
        known = await session.execute(_KNOWN_WORDS, {"words": words})
        frequency: dict[str, int] = {row.word: row.frequency for row in known}
        similar: dict[str, list[str]] = {w: [w] if w in frequency else [] for w in words}
        unknown = [w for w in words if w not in frequency]
        if unknown:
            await session.execute(
                text("SELECT set_config('pg_trgm.similarity_threshold', :t, true)"),
                {"t": _WORD_SIMILARITY},
            )
            rows = await session.execute(_SIMILAR_WORDS, {"words": unknown, "n": _ALTERNATIVES})
            for row in rows:
                similar[row.typed].append(row.known)
                frequency[row.known] = row.frequency
        groups: list[list[str]] = []
        for word in words:
            if word in similar[word]:
                groups.append([word])
            elif similar[word]:
                # Padded to one length, so that queries have few distinct shapes and
                # their prepared statements are reused.
                alternatives = [word, *similar[word]]
                groups.append(alternatives + [word] * (_ALTERNATIVES + 1 - len(alternatives)))
        if groups:
            rarity = sorted(
                range(len(groups)), key=lambda i: sum(frequency.get(w, 0) for w in set(groups[i]))
            )
            hits = await _run_pass(session, groups, set(rarity[:_INDEXED_WORDS]), page)
            if hits is not None:
                return hits
    rows = await session.execute(_FUZZY, page)
    return [Hit(row.organisation_id, float(row.score)) for row in rows]


async def _run_pass(
    session: AsyncSession, groups: list[list[str]], indexed: set[int], page: dict[str, object]
) -> list[Hit] | None:
    """The page of this pass, or None when the pass matches nothing at all."""
    query, params = _matching(groups, indexed)
    pool = max(_POOL, 4 * (int(page["offset"]) + int(page["limit"])))  # type: ignore[call-overload]
    rows = await session.execute(query, {**page, **params, "pool": pool})
    hits = [Hit(row.organisation_id, float(row.score)) for row in rows]
    if hits:
        return hits
    if page["offset"]:
        # An empty page past the end still means this pass is the one that matched.
        first = await session.execute(query, {**page, **params, "offset": 0, "limit": 1, "pool": 1})
        if first.first() is not None:
            return []
    return None


# --- the portable fallback ---------------------------------------------------------


@lru_cache(maxsize=200_000)
def trigrams(value: str) -> frozenset[str]:
    """pg_trgm's trigrams: each word padded with two spaces in front and one behind.

    Cached by text: a name's trigrams never change, and the fallback scores every name.
    """
    found: set[str] = set()
    for word in value.split():
        padded = f"  {word} "
        found.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return frozenset(found)


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def word_similarity(query: frozenset[str], target: frozenset[str]) -> float:
    """Share of the query's trigrams found in the target: pg_trgm's ``word_similarity``
    over the whole target, an upper bound of its best-extent score that ranks names alike."""
    if not query:
        return 0.0
    return len(query & target) / len(query)


async def _search_in_python(session: AsyncSession, q: str, *, offset: int, limit: int) -> list[Hit]:
    query = trigrams(q)
    best: dict[UUID, tuple[float, int]] = {}
    rows = await session.execute(select(organisation_name))
    for organisation_id, target in rows:
        target_trigrams = trigrams(target)
        word_score = word_similarity(query, target_trigrams)
        if word_score < 0.6:  # pg_trgm's default word_similarity_threshold
            continue
        score = (similarity(query, target_trigrams) + word_score) / 2
        current = best.get(organisation_id)
        if current is None or (score, -len(target)) > (current[0], -current[1]):
            best[organisation_id] = (score, len(target))
    ranked = sorted(best.items(), key=lambda item: (-item[1][0], item[1][1], str(item[0])))
    return [Hit(org, score) for org, (score, _) in ranked[offset : offset + limit]]

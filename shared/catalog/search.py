"""Persian-aware, ranked search over the services of a catalog.

Runs wherever the catalog is — on the server for the online desk and the API, on the kiosk
offline. Text is compared after `shared.text.normalize`, so «كارت» finds «کارت», «۱۲» finds
«12», and «می‌شود», «میشود» and «می شود» are one word to search.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.catalog.schema import Catalog, ServiceSpec
from shared.text import compact, normalize, tokens

# How much a query word counts when found in each part of a service.
WEIGHTS = {"title": 10, "keywords": 6, "summary": 4, "category": 3, "body": 1}
WHOLE_PHRASE_IN_TITLE = 20


@dataclass(frozen=True)
class Hit:
    service: ServiceSpec
    score: int


@dataclass(frozen=True)
class _Entry:
    service: ServiceSpec
    words: dict[str, frozenset[str]]  # part -> its normalized words
    compact_parts: dict[str, str]  # part -> its text with no spaces


def _body_text(service: ServiceSpec) -> str:
    parts: list[str] = []
    parts += [f"{s.title} {s.description} {s.agency or ''}" for s in service.steps]
    parts += [f"{d.name} {d.description}" for d in service.documents]
    parts += [f"{law.title} {law.reference}" for law in service.laws]
    parts += [f"{q.question} {q.answer}" for q in service.faq]
    parts += [service.responsible.unit, service.responsible.name]
    return " ".join(parts)


class SearchIndex:
    """The words of every service, normalized once; queries rank services by them."""

    def __init__(self, catalog: Catalog):
        titles = {c.slug: c.title for c in catalog.categories}
        self._entries = [self._entry(s, titles.get(s.category, "")) for s in catalog.services]

    @staticmethod
    def _entry(service: ServiceSpec, category_title: str) -> _Entry:
        texts = {
            "title": service.title,
            "keywords": " ".join(service.keywords),
            "summary": service.summary,
            "category": category_title,
            "body": _body_text(service),
        }
        return _Entry(
            service=service,
            words={part: frozenset(tokens(text)) for part, text in texts.items()},
            compact_parts={part: compact(text) for part, text in texts.items()},
        )

    def search(self, query: str, category: str | None = None, limit: int = 50) -> list[Hit]:
        """Services matching every word of `query`, best first (then by title)."""
        query_words = tokens(query)
        if not query_words:
            return []
        phrase = compact(query)
        hits = []
        for entry in self._entries:
            if category and entry.service.category != category:
                continue
            score = self._score(entry, query_words, phrase)
            if score:
                hits.append(Hit(entry.service, score))
        hits.sort(key=lambda h: (-h.score, normalize(h.service.title)))
        return hits[:limit]

    @staticmethod
    def _score(entry: _Entry, query_words: list[str], phrase: str) -> int:
        total = 0
        for word in query_words:
            best = max((WEIGHTS[part] * _word_match(word, words, entry.compact_parts[part])
                        for part, words in entry.words.items()), default=0)
            if best == 0:
                return 0  # every query word must be found somewhere
            total += best
        if len(query_words) > 1 and phrase in entry.compact_parts["title"]:
            total += WHOLE_PHRASE_IN_TITLE
        return total


def _word_match(word: str, words: frozenset[str], compact_text: str) -> int:
    """2 for a whole word, 1 for a word's beginning or a match across spacing, else 0."""
    if word in words:
        return 2
    if any(w.startswith(word) for w in words):
        return 1
    if len(word) >= 3 and word in compact_text:
        return 1
    return 0

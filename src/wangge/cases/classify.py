"""Suggest matter types from a case's text. Staff confirm or change the suggestion.

The :class:`Classifier` protocol is the seam for a learned model (issue: text intelligence);
:class:`KeywordClassifier` is the rule-based default over the catalogue's keywords."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .models import MatterType


@dataclass(frozen=True)
class Suggestion:
    code: str
    name: str
    score: float  # 0..1, comparable within one answer
    matched: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "name": self.name,
            "score": round(self.score, 3),
            "matched": list(self.matched),
        }


class Classifier(Protocol):
    def suggest(self, *, title: str, text: str, limit: int = 5) -> list[Suggestion]:
        """Ranked suggestions, best first; empty when nothing matches."""
        ...


class KeywordClassifier:
    """Longest-keyword-wins rules: a matched keyword scores its length, twice in the title."""

    def __init__(self, entries: list[tuple[str, str, list[str]]]):
        self.entries = entries

    @classmethod
    def from_catalogue(cls) -> KeywordClassifier:
        rows = MatterType.objects.filter(active=True).values_list("code", "name", "keywords")
        return cls(
            [(code, name, sorted({name, *kw}, key=len, reverse=True)) for code, name, kw in rows]
        )

    def suggest(self, *, title: str, text: str, limit: int = 5) -> list[Suggestion]:
        scored: list[tuple[float, str, str, tuple[str, ...]]] = []
        for code, name, keywords in self.entries:
            score = 0.0
            matched: list[str] = []
            covered = ""
            for kw in keywords:
                if not kw or kw in covered:  # a shorter keyword inside a longer hit adds nothing
                    continue
                in_title, in_text = kw in title, kw in text
                if in_title or in_text:
                    score += len(kw) * (2 if in_title else 1)
                    matched.append(kw)
                    covered += "|" + kw
            if score:
                scored.append((score, code, name, tuple(matched)))
        if not scored:
            return []
        scored.sort(key=lambda s: (-s[0], s[1]))
        top = scored[0][0]
        total = sum(s[0] for s in scored[:limit])
        return [
            Suggestion(code, name, min(1.0, 0.5 * score / top + 0.5 * score / total), matched)
            for score, code, name, matched in scored[:limit]
        ]


_cache: tuple[int, KeywordClassifier] | None = None


def get_classifier() -> Classifier:
    """The deployment's classifier, rebuilt when the catalogue version changes (checked at most
    once a second, see :func:`~wangge.cases.catalogue.catalogue_number`)."""
    from .catalogue import catalogue_number

    global _cache
    number = catalogue_number()
    if _cache is None or _cache[0] != number:
        _cache = (number, KeywordClassifier.from_catalogue())
    return _cache[1]


def reset() -> None:
    from .catalogue import invalidate_catalogue

    global _cache
    _cache = None
    invalidate_catalogue()

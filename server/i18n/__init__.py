"""Translation catalogs (sv first, then fi and en) for server-rendered text."""

import json
from functools import cache
from importlib import resources

LANGUAGES = ("sv", "fi", "en")
DEFAULT = "sv"


@cache
def catalog(lang: str) -> dict[str, str]:
    text = resources.files(__package__).joinpath(f"{lang}.json").read_text("utf-8")
    return dict(json.loads(text))


def negotiate(query_lang: str | None, accept_language: str | None) -> str:
    """The query's ``lang`` if offered, else the best Accept-Language match, else sv."""
    if query_lang in LANGUAGES:
        return str(query_lang)
    ranked = []
    for part in (accept_language or "").split(","):
        tag, _, q = part.strip().partition(";q=")
        try:
            ranked.append((float(q or 1), tag.split("-")[0].lower()))
        except ValueError:
            continue
    for _, tag in sorted(ranked, reverse=True):
        if tag in LANGUAGES:
            return tag
    return DEFAULT


def translate(lang: str, key: str) -> str:
    return catalog(lang).get(key) or catalog(DEFAULT).get(key) or key

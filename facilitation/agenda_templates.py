"""Ready-made agendas for the programme's focus areas, in Swedish, Finnish and English.

Each template is one JSON file under ``facilitation/templates/``; every text
in it maps a language code to the text, so the structure (activities, kinds,
durations, group sizes) cannot differ between languages.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from types import MappingProxyType
from typing import Any

from facilitation.agenda import Activity, ActivityKind, Agenda, FocusArea
from facilitation.exceptions import FacilitationError, InvalidTemplate, UnknownTemplate

LANGUAGES = ("sv", "fi", "en")
DEFAULT_LANGUAGE = "sv"
_PACKAGE = "facilitation.templates"


@dataclass(frozen=True)
class TemplateInfo:
    """A template's id, focus area and title in every language."""

    id: str
    focus_area: FocusArea
    titles: Mapping[str, str] = field(hash=False)


def template_ids() -> list[str]:
    """Ids of all shipped templates, sorted."""
    names = (entry.name for entry in files(_PACKAGE).iterdir())
    return sorted(name.removesuffix(".json") for name in names if name.endswith(".json"))


def list_templates() -> list[TemplateInfo]:
    """Every shipped template with its titles by language."""
    infos = []
    for template_id in template_ids():
        data = _read(template_id)
        titles = {lang: _text(data, "title", lang) for lang in LANGUAGES}
        infos.append(TemplateInfo(template_id, _focus_area(data), MappingProxyType(titles)))
    return infos


def load_template(template_id: str, lang: str = DEFAULT_LANGUAGE) -> Agenda:
    """The agenda of ``template_id`` in ``lang``; Swedish for unknown languages or missing texts."""
    return parse_template(_read(template_id), lang)


def parse_template(data: Mapping[str, Any], lang: str = DEFAULT_LANGUAGE) -> Agenda:
    """Build the agenda described by decoded template JSON, in ``lang``."""
    focus_area = _focus_area(data)
    items = data.get("activities")
    if not isinstance(items, list):
        raise InvalidTemplate(f"Template {data.get('id')!r} has no list of activities.")
    activities = tuple(_activity(item, lang, focus_area) for item in items)
    try:
        return Agenda.of(activities, title=_text(data, "title", lang))
    except FacilitationError as error:
        raise InvalidTemplate(
            f"Template {data.get('id')!r} is not a valid agenda: {error}"
        ) from error


def _read(template_id: str) -> dict[str, Any]:
    if template_id not in template_ids():
        raise UnknownTemplate(f"There is no agenda template called {template_id!r}.")
    text = files(_PACKAGE).joinpath(f"{template_id}.json").read_text(encoding="utf-8")
    data = json.loads(text)
    if not isinstance(data, dict):
        raise InvalidTemplate(f"Template {template_id!r} is not a JSON object.")
    return data


def _activity(item: Any, lang: str, focus_area: FocusArea) -> Activity:
    if not isinstance(item, dict):
        raise InvalidTemplate("Every activity of a template must be a JSON object.")
    try:
        return Activity(
            id=str(item["id"]),
            title=_text(item, "title", lang),
            duration_s=int(item["duration_s"]),
            kind=ActivityKind(item["kind"]),
            prompt=_text(item, "prompt", lang),
            focus_area=focus_area,
            group_size=item.get("group_size"),
        )
    except (KeyError, ValueError, TypeError) as error:
        raise InvalidTemplate(f"A template activity is malformed: {error!r}.") from error
    except InvalidTemplate:
        raise
    except FacilitationError as error:
        raise InvalidTemplate(f"A template activity is invalid: {error}") from error


def _focus_area(data: Mapping[str, Any]) -> FocusArea:
    try:
        return FocusArea(str(data.get("focus_area")))
    except ValueError as error:
        raise InvalidTemplate(f"Template {data.get('id')!r} has no known focus area.") from error


def _text(data: Mapping[str, Any], key: str, lang: str) -> str:
    texts = data.get(key)
    if not isinstance(texts, dict):
        raise InvalidTemplate(f"Template text {key!r} must map language codes to texts.")
    text = texts.get(lang) or texts.get(DEFAULT_LANGUAGE)
    if not isinstance(text, str):
        raise InvalidTemplate(f"Template text {key!r} has no Swedish version to fall back on.")
    return text

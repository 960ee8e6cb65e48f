import json
from importlib.resources import files

import pytest

from facilitation.agenda import ActivityKind, FocusArea
from facilitation.agenda_templates import LANGUAGES, list_templates, load_template, parse_template
from facilitation.exceptions import InvalidTemplate, UnknownTemplate

TEMPLATE_IDS = [info.id for info in list_templates()]


def structure(template_id: str, lang: str) -> list[tuple[str, ActivityKind, int, int | None]]:
    agenda = load_template(template_id, lang)
    return [(a.id, a.kind, a.duration_s, a.group_size) for a in agenda.activities]


def test_one_template_per_focus_area() -> None:
    assert sorted(TEMPLATE_IDS) == sorted(area.value for area in FocusArea)
    assert {info.focus_area for info in list_templates()} == set(FocusArea)


@pytest.mark.parametrize("template_id", TEMPLATE_IDS)
def test_every_language_has_the_same_structure(template_id: str) -> None:
    swedish = structure(template_id, "sv")
    for lang in LANGUAGES:
        assert structure(template_id, lang) == swedish


@pytest.mark.parametrize("template_id", TEMPLATE_IDS)
def test_every_text_is_translated(template_id: str) -> None:
    raw = json.loads(
        files("facilitation.templates").joinpath(f"{template_id}.json").read_text(encoding="utf-8")
    )
    assert raw["id"] == template_id
    texts = [raw["title"]] + [a[key] for a in raw["activities"] for key in ("title", "prompt")]
    for text in texts:
        assert set(text) == set(LANGUAGES)
        assert all(text[lang].strip() for lang in LANGUAGES)
        assert len({text[lang] for lang in LANGUAGES}) == 3


@pytest.mark.parametrize("template_id", TEMPLATE_IDS)
def test_agenda_shape_welcome_breakouts_reporting(template_id: str) -> None:
    agenda = load_template(template_id, "fi")
    kinds = [a.kind for a in agenda.activities]
    assert kinds[0] is ActivityKind.PLENARY
    assert kinds[-1] is ActivityKind.PLENARY
    assert 2 <= kinds.count(ActivityKind.BREAKOUT) <= 3
    assert all(a.focus_area == template_id for a in agenda.activities)
    assert all(a.group_size for a in agenda.activities if a.kind is ActivityKind.BREAKOUT)


def test_titles_are_listed_by_language() -> None:
    titles = {info.id: info.titles for info in list_templates()}
    assert titles["conflict_management"]["sv"] == "Konflikthantering"
    assert titles["creativity_problem_solving"]["fi"] == "Luovuus ja ongelmanratkaisu"
    assert titles["resident_experience"]["en"] == "Resident experience and service development"


def test_languages_differ_and_unknown_language_falls_back_to_swedish() -> None:
    swedish = load_template("self_leadership", "sv")
    finnish = load_template("self_leadership", "fi")
    assert swedish.title != finnish.title
    assert load_template("self_leadership", "de") == swedish
    assert load_template("self_leadership") == swedish


def test_unknown_template() -> None:
    with pytest.raises(UnknownTemplate, match="'../secrets'"):
        load_template("../secrets", "sv")


def minimal_template(**changes: object) -> dict[str, object]:
    activity = {
        "id": "talk",
        "kind": "breakout",
        "duration_s": 600,
        "title": {"sv": "Samtal", "fi": "Keskustelu"},
        "prompt": {"sv": "Berätta."},
    }
    data: dict[str, object] = {
        "id": "custom",
        "focus_area": "conflict_management",
        "title": {"sv": "Eget program"},
        "activities": [activity],
    }
    data.update(changes)
    return data


def test_parse_template_falls_back_to_swedish_per_text() -> None:
    agenda = parse_template(minimal_template(), "fi")
    assert agenda.title == "Eget program"
    assert agenda.activities[0].title == "Keskustelu"
    assert agenda.activities[0].prompt == "Berätta."


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"focus_area": "gardening"}, "no known focus area"),
        ({"activities": "none"}, "no list of activities"),
        ({"activities": ["talk"]}, "must be a JSON object"),
        ({"activities": [{"id": "x", "title": {"sv": "X"}, "prompt": {"sv": "Y"}}]}, "malformed"),
        ({"activities": [{"id": "x", "kind": "breakout", "title": "X"}]}, "language codes"),
        ({"title": {"en": "Only English"}}, "no Swedish version"),
        ({"activities": []}, "not a valid agenda"),
    ],
)
def test_parse_template_rejects_malformed_data(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidTemplate, match=message) as caught:
        parse_template(minimal_template(**changes))
    assert caught.value.code == "invalid_template"


def test_parse_template_rejects_invalid_durations() -> None:
    too_short = {"id": "x", "kind": "breakout", "duration_s": 20, "title": {"sv": "X"}}
    too_short["prompt"] = {"sv": "Y"}
    with pytest.raises(InvalidTemplate, match="between 30 and 10800"):
        parse_template(minimal_template(activities=[too_short]))

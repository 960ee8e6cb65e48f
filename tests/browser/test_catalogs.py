"""Every user-visible string of the web client is in the sv, fi and en catalogs."""

import json
import re
from pathlib import Path

import pytest

from rooms.events import EVENTS

SRC = Path(__file__).resolve().parents[2] / "web_client" / "src"
LANGS = ("sv", "fi", "en")
QUOTED = re.compile(r"""['"]([a-z]+\.[a-z0-9_.-]+)['"]""")
SECTIONS = {"lang", "connect", "action", "replaced", "closed", "left", "fatal", "error", "join",
            "media", "video", "people", "room", "chat", "banner", "controls", "reaction",
            "meeting", "conn", "board", "console", "strategy", "who", "gallery", "a11y"}
# Keys built at run time: prefix -> the suffixes the code can produce.
DYNAMIC = {
    "fatal.": [f"{k}.{part}" for k in ("no_token", "token_invalid", "token_expired",
                                        "token_wrong_meeting", "meeting_not_found",
                                        "meeting_ended", "resume_lost", "failed")
               for part in ("title", "text")],
    "media.error.": ["denied", "missing", "busy", "failed", "unsupported"],
    "board.tool.": ["select", "pen", "line", "arrow", "rect", "ellipse", "sticky", "text"],
    "board.kind.": ["pen", "line", "arrow", "rect", "ellipse", "sticky", "text"],
    "board.color.": ["black", "red", "blue", "green", "orange", "purple"],
    "reaction.": ["thumbs", "clap", "heart", "laugh", "wow", "party", "thinking", "thanks"],
    "strategy.": [s + h for s in ("mix", "random", "manual", "self-select", "keep")
                  for h in ("", "_help")],
    "console.kind_": ["plenary", "breakout"],
    "lang.": list(LANGS),
    "meeting.": ["people", "chat"],
}
# Names on the wire, not catalog keys: commands, server messages and every log event type.
WIRE = {"chat.history", "board.fetch", "board.gallery", "board.show", "board.state",
        "board.update", "meeting.end", *EVENTS}
PLURAL = {"people.hands", "people.count", "banner.chosen_count", "banner.one_minute",
          "banner.seconds_left", "console.minutes", "console.extend", "console.shorten",
          "console.elements", "chat.tab_unread", "console.close_countdown", "console.mics_on",
          "console.board_changes", "people.restore_hands"}


def catalog(lang: str) -> dict[str, str]:
    return dict(json.loads((SRC / "i18n" / f"{lang}.json").read_text("utf-8")))


def used_keys() -> set[str]:
    keys: set[str] = set()
    for path in SRC.rglob("*.js"):
        keys |= {k for k in QUOTED.findall(path.read_text("utf-8"))
                 if k.split(".")[0] in SECTIONS and not k.endswith(".") and k not in WIRE}
    for prefix, suffixes in DYNAMIC.items():
        keys |= {prefix + s for s in suffixes}
    plural = {k for k in keys if k in PLURAL}
    return (keys - plural) | {f"{k}_{form}" for k in plural for form in ("one", "other")}


def test_catalogs_have_the_same_keys() -> None:
    sv = catalog("sv")
    for lang in ("fi", "en"):
        other = catalog(lang)
        assert sorted(set(sv) - set(other)) == [], f"missing in {lang}"
        assert sorted(set(other) - set(sv)) == [], f"only in {lang}"


@pytest.mark.parametrize("lang", LANGS)
def test_every_used_key_is_translated(lang: str) -> None:
    texts = catalog(lang)
    missing = sorted(k for k in used_keys() if not texts.get(k, "").strip())
    assert missing == []


def test_placeholders_match_across_languages() -> None:
    names = re.compile(r"\{(\w+)\}")
    sv = catalog("sv")
    for lang in ("fi", "en"):
        other = catalog(lang)
        wrong = [k for k in sv if set(names.findall(sv[k])) != set(names.findall(other[k]))]
        assert wrong == [], lang


def test_server_error_codes_have_sentences() -> None:
    protocol = (SRC.parents[1] / "docs" / "protocol.md").read_text("utf-8")
    codes = set(re.findall(r"`([a-z]+(?:_[a-z]+)+)`", protocol))
    codes &= {c for c in codes if any(w in c for w in (
        "invalid", "unknown", "already", "not_", "no_", "too_", "full", "forbidden",
        "rate_limited", "unavailable", "insufficient", "in_progress", "ended"))}
    codes -= {"invalid_auth", "token_invalid", "token_expired", "token_wrong_meeting",
              "meeting_not_found", "resume_invalid", "board_state_vector_invalid",
              "board_element_invalid", "not_connected"}
    sv = catalog("sv")
    assert sorted(c for c in codes if f"error.{c}" not in sv) == []

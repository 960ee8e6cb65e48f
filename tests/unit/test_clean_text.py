"""clean_text: control characters and broken Unicode refused, the rest kept; printable
text never takes the per-character walk (a chat message's main cost in the command)."""

import unicodedata

import pytest

from rooms import commands
from rooms.commands import clean_text
from rooms.exceptions import InvalidValue


@pytest.mark.parametrize("text", ["a\x00b", "bell\x07", "a\x7fb", "\ud800", "x\x1by", "\x85"])
def test_control_characters_and_surrogates_are_refused(text: str) -> None:
    with pytest.raises(InvalidValue):
        clean_text(text, field="message", max_len=100)


@pytest.mark.parametrize("text", ["hej åäö 👋", "two\nlines\tand a tab", "nbsp\u00a0here",
                                  "zero\u200bwidth", "rtl\u202eok", "\ue000private"])
def test_other_text_is_kept(text: str) -> None:
    assert clean_text(f"  {text} ", field="message", max_len=100) == text


def test_printable_text_is_not_walked_character_by_character(
        monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    original = unicodedata.category

    def category(ch: str) -> str:
        seen.append(ch)
        return original(ch)
    monkeypatch.setattr(commands.unicodedata, "category", category)
    assert clean_text("Hej allihopa, välkomna! 👋", field="message", max_len=100)
    assert seen == []
    clean_text("two\nlines", field="message", max_len=100)  # not printable: walked
    assert seen

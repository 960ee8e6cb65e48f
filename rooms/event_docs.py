"""What follows from the event model: the log-event tables of ``docs/protocol.md`` and
the browser's list of event types (``web_client/src/events.generated.js``).

    python -m rooms.event_docs docs/protocol.md web_client/src/events.generated.js

rewrites the tables between the ``<!-- events:GROUP:begin/end -->`` markers and the
JavaScript module; without arguments it prints both. Tests fail when either is stale.
"""

import json
import sys
from pathlib import Path

import msgspec

from rooms.events import EVENTS, GROUPS, Draft, Seen, type_of

SEEN = {Seen.MEETING: "meeting", Seen.ROOM: "members of `room`",
        Seen.ROOM_AND_FACILITATORS: "members of `room` and every facilitator"}
BULK_FIELDS = ("opens", "moves", "closes")
SHAPES = {"opens": ": [Room]", "moves": ": {participant: room}", "closes": ": [room ids]"}
NULL = "\\|null"  # escaped: the text goes into a table cell
JS_FILE = "events.generated.js"


def fields(cls: type[Draft]) -> str:
    """``{id, room, text, erased?}``: a field with ``?`` may be absent, ``|null`` may be
    null (the bar escaped, as the text goes into a table)."""
    names = []
    for f in msgspec.structs.fields(cls):
        absent = f.default is msgspec.UNSET
        null = not absent and "None" in repr(f.type)
        names.append(f.encode_name + ("?" if absent else "") + SHAPES.get(f.encode_name, "")
                     + (NULL if null else ""))
    return "{" + ", ".join(names) + "}"


def meaning(cls: type[Draft]) -> str:
    return " ".join((cls.__doc__ or "").split())


def markdown(group: str) -> str:
    """The table of one group of log events."""
    lines = ["| type | data | seen by |", "|---|---|---|"]
    lines += [f"| `{type_of(c)}` | `{fields(c)}`: {meaning(c)} | {SEEN[c.SEEN_BY]} |"
              for c in GROUPS[group]]
    return "\n".join(lines) + "\n"


def bulk(cls: type[Draft]) -> list[str]:
    """The bulk room changes (``opens``, ``moves``, ``closes``) ``cls`` carries."""
    names = {f.encode_name for f in msgspec.structs.fields(cls)}
    return [name for name in BULK_FIELDS if name in names]


def javascript() -> str:
    types = {t: c.SEEN_BY.value for t, c in EVENTS.items()}
    carried = {t: bulk(c) for t, c in EVENTS.items() if bulk(c)}
    return (
        "// Generated from rooms/events.py by `python -m rooms.event_docs`; do not edit.\n"
        "\n"
        "/** Every log event type the server sends, and who sees it. */\n"
        f"export const EVENT_TYPES = Object.freeze({json.dumps(types, indent=2)})\n"
        "\n"
        "/** The events that open rooms, move people or close rooms, and the fields that\n"
        " *  carry those changes. */\n"
        f"export const BULK = Object.freeze({json.dumps(carried, indent=2)})\n"
    )


def markers(group: str) -> tuple[str, str]:
    return f"<!-- events:{group}:begin -->", f"<!-- events:{group}:end -->"


def block(text: str, group: str) -> str:
    """What ``text`` has between ``group``'s markers."""
    begin, end = markers(group)
    return text.split(begin, 1)[1].split(end, 1)[0].removeprefix("\n")


def rewritten(text: str) -> str:
    """``text`` (docs/protocol.md) with every group's table regenerated."""
    for group in GROUPS:
        begin, end = markers(group)
        head, rest = text.split(begin, 1)
        tail = rest.split(end, 1)[1]
        text = f"{head}{begin}\n{markdown(group)}{end}{tail}"
    return text


def write(path: Path) -> None:
    if path.name == JS_FILE:
        path.write_text(javascript(), "utf-8")
    else:
        path.write_text(rewritten(path.read_text("utf-8")), "utf-8")


if __name__ == "__main__":  # python -m rooms.event_docs [docs/protocol.md] [...generated.js]
    if len(sys.argv) > 1:
        for arg in sys.argv[1:]:
            write(Path(arg))
    else:
        sys.stdout.write("".join(markdown(g) + "\n" for g in GROUPS) + javascript())

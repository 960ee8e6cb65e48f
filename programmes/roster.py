"""Reading a roster as Finnish offices export it: CSV from Excel (semicolons, UTF-8
with a BOM or Windows-1252) or rows pasted from a spreadsheet (tabs).

``preview`` stores nothing: it names every problem, and every municipality that
is not on the list with the closest listed names, so the organiser can confirm
or correct before one all-or-nothing import.
"""

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field

from programmes.commands import PersonInput, checked, identity
from programmes.exceptions import ProgrammeError, RosterInvalid
from programmes.state import Person
from rooms.municipalities import closest, fold, lookup, tidy

MAX_BYTES = 1_000_000
MAX_ROWS = 2000
COLUMNS = {
    "name": ("name", "namn", "nimi", "för- och efternamn", "nimi / namn"),
    "municipality": ("municipality", "kommun", "kunta", "organisation", "organisaatio"),
    "title": ("title", "titel", "befattning", "nimike", "tehtävänimike"),
    "email": ("email", "e-mail", "e-post", "epost", "sähköposti", "mail"),
    "role": ("role", "roll", "rooli"),
}
REQUIRED = ("name", "municipality")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the roster; ``code`` names it for the translations."""

    code: str  # unknown_column | missing_column | bad_row | duplicate_row | too_many_fields
    line: int = 0
    value: str = ""


@dataclass(frozen=True)
class Unknown:
    """A municipality not on the list, with the closest listed ones."""

    name: str
    lines: tuple[int, ...]
    suggestions: tuple[str, ...]


@dataclass(frozen=True)
class Preview:
    text: str
    rows: list[tuple[int, PersonInput]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unknown: list[Unknown] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        """Nothing wrong and every unknown municipality decided."""
        return not self.problems and not self.unknown


def decode(raw: bytes) -> str:
    """UTF-8 (with or without a BOM), else Windows-1252, as Excel writes them."""
    if len(raw) > MAX_BYTES:
        raise RosterInvalid("The file is larger than 1 MB.")
    if b"\x00" in raw:
        raise RosterInvalid("This is not a text file (is it an .xlsx? save it as CSV).")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise RosterInvalid("The file is neither UTF-8 nor Windows-1252 text.") from exc


def preview(text: str, existing: list[Person],
            decisions: Mapping[str, str] | None = None) -> Preview:
    """Parse ``text``; ``decisions`` maps a folded unknown municipality to what to use
    instead (a listed name, or the name itself to keep it as an organisation)."""
    text = text.lstrip("\ufeff")
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise RosterInvalid("The roster is empty.")
    if len(lines) > MAX_ROWS + 1:
        raise RosterInvalid(f"The roster has more than {MAX_ROWS} rows.")
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=_delimiter(lines[0]))
    try:
        table = list(reader)
    except csv.Error as exc:
        raise RosterInvalid(f"The roster is not valid CSV: {exc}.") from exc
    columns, problems = _columns(table[0])
    if problems and any(p.code == "missing_column" for p in problems):
        return Preview(text, problems=problems)
    return _rows(text, table[1:], columns, problems, existing, decisions or {})


def _delimiter(header: str) -> str:
    for candidate in ("\t", ";", ","):
        if candidate in header:
            return candidate
    return ";"


def _columns(header: list[str]) -> tuple[dict[str, int], list[Problem]]:
    names = {fold(alias): key for key, aliases in COLUMNS.items() for alias in aliases}
    columns: dict[str, int] = {}
    problems = []
    for index, cell in enumerate(header):
        key = names.get(fold(cell))
        if key is None or key in columns:
            problems.append(Problem("unknown_column", 1, tidy(cell)))
        else:
            columns[key] = index
    problems += [Problem("missing_column", 1, key) for key in REQUIRED if key not in columns]
    return columns, problems


def _rows(text: str, table: list[list[str]], columns: dict[str, int],
          problems: list[Problem], existing: list[Person],
          decisions: Mapping[str, str]) -> Preview:
    rows: list[tuple[int, PersonInput]] = []
    unknown: dict[str, list[int]] = {}
    seen = {identity(checked(PersonInput(p.name, p.municipality, p.title, p.email, p.role)))
            for p in existing}
    for line, cells in enumerate(table, start=2):
        if len(cells) > len(columns) + sum(p.code == "unknown_column" for p in problems):
            problems.append(Problem("too_many_fields", line))
            continue
        values = {k: (cells[i] if i < len(cells) else "") for k, i in columns.items()}
        typed = values["municipality"]
        chosen = decisions.get(fold(typed), "") if lookup(typed) is None else typed
        if lookup(typed) is None and not chosen.strip():
            unknown.setdefault(tidy(typed), []).append(line)
            chosen = typed
        person = PersonInput(values["name"], chosen, values.get("title", ""),
                             values.get("email", ""), values.get("role", ""))
        try:
            key = identity(checked(person))
        except ProgrammeError as exc:
            problems.append(Problem("bad_row", line, exc.message))
            continue
        if key in seen:
            problems.append(Problem("duplicate_row", line, tidy(values["name"])))
            continue
        seen.add(key)
        rows.append((line, person))
    return Preview(text, rows, problems, [
        Unknown(name, tuple(lines), tuple(closest(name))) for name, lines in unknown.items()
        if name])

"""The programme core: fold, roster import preview, link revocation, safe exports."""

import pytest

from programmes import commands as pc
from programmes.exceptions import DuplicatePerson, RosterInvalid, UnknownPerson
from programmes.exports import safe_cell, to_csv
from programmes.roster import decode, preview
from programmes.state import Programme
from rooms import Draft, Event

HEADER = "Namn;Kommun;Titel;E-post;Roll"


def apply(p: Programme, drafts: list[Draft]) -> None:
    for d in drafts:
        p.apply(Event(p.seq + 1, 1, "org", d.type, d.data))


def programme() -> Programme:
    p = Programme()
    apply(p, [pc.create_programme("p1", "Kommunens ledarstig 2026–27")])
    apply(p, pc.create_cohort(p, "c1", "Grupp A", "2027-06-30"))
    return p


def test_excel_csv_with_bom_and_windows_1252_read_alike() -> None:
    text = f"{HEADER}\r\nÅsa Öberg;Vasa;Chef;asa@vasa.fi;deltagare\r\n"
    assert decode(text.encode("utf-8-sig")) == decode(text.encode("cp1252"))
    rows = preview(decode(text.encode("cp1252")), []).rows
    assert rows[0][1].name == "Åsa Öberg"


def test_binary_and_empty_files_are_refused() -> None:
    with pytest.raises(RosterInvalid):
        decode(b"PK\x03\x04\x00\x00")
    with pytest.raises(RosterInvalid):
        preview("\n \n", [])


def test_every_problem_is_named() -> None:
    text = "\n".join([HEADER + ";Skostorlek",
                      "Anna Berg;Vasa;;anna@vasa.fi;;41",
                      "Anna Berg;vasa;;ANNA@vasa.fi;;42",
                      "Bo Ek;Esbo;;not-an-address;;",
                      "Cia;Helsinkki;;;;",
                      "Dan;Helsinkki;;;;",
                      "Eva;Helsinki;;;chef;"])
    found = preview(text, [])
    codes = [(p.code, p.line) for p in found.problems]
    assert ("unknown_column", 1) in codes and ("duplicate_row", 3) in codes
    assert ("bad_row", 4) in codes and ("bad_row", 7) in codes
    assert [(u.name, u.lines, u.suggestions[0]) for u in found.unknown] == [
        ("Helsinkki", (5, 6), "Helsingfors")]
    assert not found.ready


def test_decisions_settle_unknown_municipalities() -> None:
    text = "Name\tMunicipality\nCia\tHelsinkki\nDan\tFöreningen Norden\n"  # pasted: tabs
    first = preview(text, [])
    assert {u.name for u in first.unknown} == {"Helsinkki", "Föreningen Norden"}
    settled = preview(text, [], {"helsinkki": "Helsingfors",
                                 "föreningen norden": "Föreningen Norden"})
    assert settled.ready
    p = programme()
    apply(p, pc.add_people(p, "c1", [(f"x{i}", person) for i, (_, person)
                                     in enumerate(settled.rows)]))
    assert [q.municipality for q in p.cohorts["c1"].roster()] == ["Helsingfors",
                                                                   "Föreningen Norden"]


def test_people_already_on_the_roster_are_duplicates() -> None:
    p = programme()
    apply(p, pc.add_people(p, "c1", [("a", pc.PersonInput("Anna", "Vasa", email="a@x.fi"))]))
    assert [q.code for q in preview("Name;Municipality;Email\nA;Esbo;A@X.FI", p.cohorts[
        "c1"].roster()).problems] == ["duplicate_row"]
    with pytest.raises(DuplicatePerson):
        pc.add_people(p, "c1", [("b", pc.PersonInput("Anna B", "Esbo", email="a@x.fi"))])
    # Two people with one name are two people when something tells them apart.
    apply(p, pc.add_people(p, "c1", [("c", pc.PersonInput("Anna", "Vasa", title="Rektor"))]))
    assert len(p.cohorts["c1"].roster()) == 2


def test_edit_remove_and_revoke() -> None:
    p = programme()
    apply(p, pc.add_people(p, "c1", [("a", pc.PersonInput("Anna", "Vasa"))]))
    apply(p, pc.update_person(p, "c1", "a", pc.PersonInput("Anna Berg", "vaasa", role="ohjaaja")))
    anna = p.cohorts["c1"].people["a"]
    assert (anna.name, anna.municipality, anna.role, anna.link) == (
        "Anna Berg", "Vasa", "facilitator", 1)
    apply(p, pc.revoke_link(p, "c1", "a"))
    assert anna.link == 2
    apply(p, pc.remove_person(p, "c1", "a"))
    assert p.cohorts["c1"].roster() == []
    with pytest.raises(UnknownPerson):
        pc.revoke_link(p, "c1", "a")


def test_exports_defuse_formulas() -> None:
    for bad in ("=HYPERLINK(\"http://x\")", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(bad).startswith("'")
    assert safe_cell("Anna") == "Anna"
    assert to_csv(["a"], [["=1+1"]]) == "a\r\n'=1+1\r\n"

"""Errors of the programme core; each has a code the adapter shows to the organiser."""

from rooms.exceptions import DomainError


class ProgrammeError(DomainError):
    code = "programme_invalid"


class UnknownCohort(ProgrammeError):
    code = "cohort_not_found"


class UnknownPerson(ProgrammeError):
    code = "person_not_found"


class DuplicatePerson(ProgrammeError):
    code = "duplicate_person"


class InvalidPerson(ProgrammeError):
    code = "invalid_person"


class RosterInvalid(ProgrammeError):
    code = "roster_invalid"

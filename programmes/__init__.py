"""Programmes, cohorts and rosters: a pure core, like ``rooms`` and ``facilitation``."""

from programmes.state import Cohort, Person, Programme, fold

__all__ = ["Cohort", "Person", "Programme", "fold"]

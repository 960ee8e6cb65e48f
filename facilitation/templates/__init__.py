"""Agenda templates shipped as JSON data, one file per template."""

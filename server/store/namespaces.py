"""Which logs of the store are meetings: programmes and organiser accounts have
logs of their own, in namespaces a meeting id (hex) never takes."""

ORGANISERS = "organisers"
PROGRAMME_PREFIX = "programme:"


def programme_log(programme_id: str) -> str:
    return PROGRAMME_PREFIX + programme_id


def is_meeting_log(key: str) -> bool:
    return key != ORGANISERS and not key.startswith(PROGRAMME_PREFIX)

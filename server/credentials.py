"""The admin token and signing secret: from settings, or made once and kept."""

import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Credentials:
    admin_token: str
    secret_key: str
    admin_token_created: bool


def load_or_create(data_dir: Path, admin_token: str | None,
                   secret_key: str | None) -> Credentials:
    token, created = _value(data_dir / "admin_token", admin_token)
    secret, _ = _value(data_dir / "secret_key", secret_key)
    return Credentials(token, secret, created)


def _value(path: Path, given: str | None) -> tuple[str, bool]:
    if given:
        return given, False
    if path.exists():
        return path.read_text().strip(), False
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    path.touch(mode=0o600)
    path.write_text(value + "\n")
    return value, True

"""Organiser accounts, in the organisers' own log; passwords hashed with argon2."""

import asyncio
import re
import secrets

import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from rooms import Event
from rooms.events import ORGANISER_EVENTS, OrganiserCreated, decode_in
from rooms.exceptions import DomainError

USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{1,63}")
MIN_PASSWORD = 10
_hasher = PasswordHasher()
_DUMMY = _hasher.hash("not anybody's password")


class AccountError(DomainError):
    code = "account_invalid"


class Account(msgspec.Struct):
    id: str
    username: str
    name: str
    hash: str


class Accounts(msgspec.Struct):
    seq: int = 0
    by_username: dict[str, Account] = msgspec.field(default_factory=dict)
    by_id: dict[str, Account] = msgspec.field(default_factory=dict)

    def apply(self, event: Event) -> None:
        created = decode_in(ORGANISER_EVENTS, event)
        assert isinstance(created, OrganiserCreated)  # the log's one type so far
        account = Account(created.id, created.username, created.name, created.hash)
        self.by_username[account.username] = self.by_id[account.id] = account
        self.seq = event.seq


def create(accounts: Accounts, username: str, name: str,
           password_hash: str) -> list[OrganiserCreated]:
    if username in accounts.by_username:
        raise AccountError("That username is taken.")
    return [OrganiserCreated(id=secrets.token_hex(6), username=username, name=name,
                             hash=password_hash)]


def check_new(username: str, name: str, password: str) -> tuple[str, str]:
    """The username (lower case) and name, or ``AccountError``; the password is only checked."""
    user = username.strip().lower()
    if not USERNAME.fullmatch(user):
        raise AccountError("A username is 2-64 letters, digits or . _ @ -.")
    if len(password) < MIN_PASSWORD or len(password) > 1024:
        raise AccountError(f"A password has at least {MIN_PASSWORD} characters.")
    shown = " ".join(name.split())[:80] or user
    return user, shown


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify(accounts: Accounts, username: str, password: str) -> Account | None:
    """The account if the password is right; as slow for unknown users as for known."""
    account = accounts.by_username.get(username.strip().lower())
    stored = account.hash if account is not None else _DUMMY
    try:
        await asyncio.to_thread(_hasher.verify, stored, password)
    except (VerificationError, InvalidHashError):
        return None
    return account

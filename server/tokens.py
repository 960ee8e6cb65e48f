"""Signed, expiring tokens for invitations and resuming a session.

Signing and expiry are itsdangerous's; we only choose what goes in.
"""

import hmac
import json
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode, int_to_bytes

from rooms import Role
from server.clock import Clock, SystemClock


class TokenError(Exception):
    code = "token_invalid"


class TokenExpired(TokenError):
    code = "token_expired"


class TokenRevoked(TokenError):
    code = "token_revoked"


@dataclass(frozen=True)
class Invite:
    meeting: str
    role: Role
    person: str | None = None  # a personal link names one roster person
    link: int = 0  # ... and the generation of their link (revoking makes a new one)
    municipality: str | None = None  # the roster's, once admitted: it wins over what is typed


@dataclass(frozen=True)
class CohortLink:
    cohort: str
    person: str
    link: int


@dataclass(frozen=True)
class Resume:
    meeting: str
    participant: str


EXPORT_TTL_S = 24 * 3600


class Tokens:
    def __init__(self, secret: str, invite_ttl_s: int, resume_ttl_s: int,
                 clock: Clock | None = None) -> None:
        self._clock: Clock = clock or SystemClock()
        signer = _signer_on(self._clock)
        self._invites = URLSafeTimedSerializer(secret, salt="ledarstig.invite", signer=signer)
        self._resumes = URLSafeTimedSerializer(secret, salt="ledarstig.resume", signer=signer)
        # Read-only board export links: safe to paste, they resume no session.
        self._exports = URLSafeTimedSerializer(secret, salt="ledarstig.export", signer=signer)
        # Personal links live until their cohort ends or they are revoked: the
        # programme's state decides, not a fixed age.
        self._personal = URLSafeTimedSerializer(secret, salt="ledarstig.personal", signer=signer)
        self._cohort_links = URLSafeTimedSerializer(secret, salt="ledarstig.cohort-link",
                                                    signer=signer)
        self._resume_signer = _FastDumps(self._resumes, self._clock)
        self._invite_ttl = invite_ttl_s
        self._issued: dict[tuple[str, str], tuple[str, float]] = {}
        self._verified: dict[str, tuple[Invite, float]] = {}
        self._resume_ttl = resume_ttl_s

    def invite(self, meeting: str, role: Role) -> str:
        return str(self._invites.dumps({"m": meeting, "r": role.value}))

    def personal(self, meeting: str, person: str, link: int) -> str:
        return "p." + str(self._personal.dumps({"m": meeting, "p": person, "l": link}))

    def cohort_link(self, cohort: str, person: str, link: int) -> str:
        return str(self._cohort_links.dumps({"c": cohort, "p": person, "l": link}))

    def read_cohort_link(self, token: str) -> CohortLink:
        data, _ = _load(self._cohort_links, token, None)
        try:
            return CohortLink(str(data["c"]), str(data["p"]), int(data["l"]))  # type: ignore[call-overload]
        except (KeyError, TypeError, ValueError) as exc:
            raise TokenError("The personal link is malformed.") from exc

    def read_invite(self, token: str) -> Invite:
        """Verify an invitation; a verified one is remembered until it expires (a
        whole meeting joins with the same link, often at once). A personal one
        still has to be admitted against its programme (not revoked, cohort on)."""
        if isinstance(token, str) and token.startswith("p."):
            data, _ = _load(self._personal, token[2:], None)
            try:
                return Invite(str(data["m"]), Role.PARTICIPANT, str(data["p"]),
                              int(data["l"]))  # type: ignore[call-overload]
            except (KeyError, TypeError, ValueError) as exc:
                raise TokenError("The personal link is malformed.") from exc
        known = self._verified.get(token) if isinstance(token, str) else None
        if known is not None and self._clock.now_ms() / 1000 < known[1]:
            return known[0]
        data, signed_at = _load(self._invites, token, self._invite_ttl)
        try:
            invite = Invite(str(data["m"]), Role(data["r"]))
        except (KeyError, ValueError, TypeError) as exc:
            raise TokenError("The invitation token is malformed.") from exc
        if len(self._verified) > 10_000:
            self._verified.clear()
        self._verified[token] = (invite, signed_at + self._invite_ttl)
        return invite

    def resume(self, meeting: str, participant: str) -> str:
        """A resume token; one signed within the last hour is reused (signing is
        a measurable part of every join)."""
        now = self._clock.monotonic()
        cached = self._issued.get((meeting, participant))
        if cached is not None and now - cached[1] < 3600:
            return cached[0]
        token = self._resume_signer.dumps({"m": meeting, "p": participant})
        if len(self._issued) > 50_000:
            self._issued.clear()
        self._issued[(meeting, participant)] = (token, now)
        return token

    def read_resume(self, token: str) -> Resume:
        data, _ = _load(self._resumes, token, self._resume_ttl)
        try:
            return Resume(str(data["m"]), str(data["p"]))
        except (KeyError, TypeError) as exc:
            raise TokenError("The resume token is malformed.") from exc

    def export(self, meeting: str, participant: str) -> str:
        return str(self._exports.dumps({"m": meeting, "p": participant}))

    def read_export(self, token: str) -> Resume:
        data, _ = _load(self._exports, token, EXPORT_TTL_S)
        try:
            return Resume(str(data["m"]), str(data["p"]))
        except (KeyError, TypeError) as exc:
            raise TokenError("The export token is malformed.") from exc

    @property
    def invite_ttl_s(self) -> int:
        return self._invite_ttl


_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class _FastDumps:
    """``URLSafeTimedSerializer.dumps`` of one serializer with its signing key derived
    once (itsdangerous makes a signer and derives its key on every call, and tries
    zlib: ~3x the cost of the token itself, one per join). The same token byte for
    byte wherever itsdangerous would not compress the payload."""

    def __init__(self, serializer: URLSafeTimedSerializer, clock: Clock) -> None:
        signer = serializer.make_signer()
        self._mac = hmac.new(signer.derive_key(), digestmod=signer.digest_method)
        self._clock = clock

    def dumps(self, obj: Any) -> str:
        # itsdangerous's compact JSON, never compressed: zlib costs more than the rest
        # of the token, and a payload of two ids never shrinks (``loads`` takes both).
        value = (base64_encode(_compact(obj).encode()) + b"."
                 + base64_encode(int_to_bytes(self._clock.now_ms() // 1000)))
        mac = self._mac.copy()
        mac.update(value)
        return (value + b"." + base64_encode(mac.digest())).decode("ascii")


CLOCK_SKEW_S = 60
"""How far ahead of this process's clock a token may be signed: another process, or
another machine behind the same Redis, may sign with a clock a little ahead of ours."""


def _signer_on(clock: Clock) -> type[TimestampSigner]:
    """itsdangerous's timestamp signer, reading ``clock`` (signing and expiry alike); a
    token signed up to ``CLOCK_SKEW_S`` in our future is not taken for an expired one."""
    class ClockSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return clock.now_ms() // 1000

        def unsign(self, signed_value: str | bytes, max_age: int | None = None,
                   return_timestamp: bool = False) -> Any:
            value, signed_at = super().unsign(signed_value, None, True)
            age = self.get_timestamp() - int(signed_at.timestamp())
            if max_age is not None and age > max_age:
                raise SignatureExpired(f"Signature age {age} > {max_age} seconds",
                                       payload=value, date_signed=signed_at)
            if age < -CLOCK_SKEW_S:
                raise SignatureExpired(f"Signature age {age} < -{CLOCK_SKEW_S} seconds",
                                       payload=value, date_signed=signed_at)
            return (value, signed_at) if return_timestamp else value
    return ClockSigner


def _load(serializer: URLSafeTimedSerializer, token: str,
          max_age: int | None) -> tuple[dict[str, object], float]:
    if not isinstance(token, str) or len(token) > 1024:
        raise TokenError("The token is not a valid token.")
    try:
        data, signed_at = serializer.loads(token, max_age=max_age, return_timestamp=True)
    except SignatureExpired as exc:
        raise TokenExpired("The link has expired; ask the organiser for a new one.") from exc
    except BadSignature as exc:
        raise TokenError("The token's signature is not valid.") from exc
    if not isinstance(data, dict):
        raise TokenError("The token is malformed.")
    return data, signed_at.timestamp()

"""What a join costs besides the bare Socket.IO handshake, kept down without changing
what a client ends up with (issue 17, item 4; docs/benchmarks.md, "The join")."""

import pytest
from itsdangerous import URLSafeTimedSerializer

from server.clock import FakeClock
from server.tokens import Tokens


def test_a_resume_token_is_itsdangerous_token_signed_without_its_per_call_serializer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    tokens = Tokens("secret", invite_ttl_s=3600, resume_ttl_s=600, clock=clock)
    reference = URLSafeTimedSerializer("secret", salt="ledarstig.resume",
                                       signer=tokens._resumes.signer)
    expected = reference.dumps({"m": "0123456789ab", "p": "a1b2c3d4e5f6"})

    def slow(*_: object, **__: object) -> None:
        raise AssertionError("a resume token went through itsdangerous's dumps")

    monkeypatch.setattr(URLSafeTimedSerializer, "dumps", slow)
    token = tokens.resume("0123456789ab", "a1b2c3d4e5f6")
    assert token == expected  # byte for byte
    resumed = tokens.read_resume(token)
    assert (resumed.meeting, resumed.participant) == ("0123456789ab", "a1b2c3d4e5f6")
    # A payload itsdangerous would compress is left as it is; it reads the same.
    odd = tokens.resume("a" * 60, "å" * 40)
    assert (tokens.read_resume(odd).meeting, tokens.read_resume(odd).participant) == (
        "a" * 60, "å" * 40)

"""ICE servers for a participant: STUN, and TURN with time-limited credentials.

TURN credentials follow coturn's REST form (``use-auth-secret``): the
username is ``<expiry unix seconds>:<participant>``, the credential the
base64 HMAC-SHA1 of that username under the shared secret. The secret
itself never leaves the server.
"""

import base64
import hashlib
import hmac
from typing import Any

from server.config import Settings


def turn_credential(secret: str, username: str) -> str:
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def ice_servers(settings: Settings, participant: str,
                now_ms: int) -> tuple[list[dict[str, Any]], int]:
    """The RTCIceServer list for ``participant`` and when it expires (ms)."""
    expires_s = now_ms // 1000 + settings.turn_ttl_s
    servers: list[dict[str, Any]] = []
    if settings.stun_urls:
        servers.append({"urls": list(settings.stun_urls)})
    if settings.turn_urls and settings.turn_secret:
        username = f"{expires_s}:{participant}"
        servers.append({"urls": list(settings.turn_urls), "username": username,
                        "credential": turn_credential(settings.turn_secret, username)})
    return servers, expires_s * 1000

"""The edge of the server: who is asking (client address, own origin) and CORS.

- The client's address is the TCP peer, unless that peer is a configured
  trusted proxy: then it is the right-most ``X-Forwarded-For`` entry that is
  not itself a trusted proxy. ``X-Forwarded-Proto`` is believed only from a
  trusted proxy too.
- Browsers always send ``Origin``. Socket.IO (both transports) and the REST
  API accept an ``Origin`` only when it is on the allow-list: the configured
  origins plus the server's own origin (its public URL when set, else the
  request's ``Host`` with its scheme). Requests without ``Origin`` (scripts,
  aiortc peers, the benchmarks) are not browsers and are allowed.
"""

import ipaddress
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """Addresses or CIDRs (``10.0.0.0/8``, ``::1``); raises ValueError on a bad one."""
    out: list[Network] = []
    for entry in entries:
        for part in entry.replace(",", " ").split():
            out.append(ipaddress.ip_network(part.strip(), strict=False))
    return tuple(out)


def normalize_origin(origin: str) -> str:
    """``scheme://host[:port]`` in lower case, default ports dropped; '' if not an origin."""
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        return ""
    default = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


class Edge:
    def __init__(self, trusted_proxies: Iterable[str], allowed_origins: Iterable[str],
                 public_url: str | None) -> None:
        self.trusted = parse_networks(trusted_proxies)
        self.allowed = frozenset(o for o in map(normalize_origin, allowed_origins) if o)
        self.public = normalize_origin(public_url) if public_url else ""
        bad = [o for o in allowed_origins if not normalize_origin(o)]
        if bad:
            raise ValueError(f"not an origin (scheme://host[:port]): {bad[0]!r}")
        self._trusted_cache: dict[str, bool] = {}

    def is_trusted(self, address: str) -> bool:
        known = self._trusted_cache.get(address)
        if known is None:
            try:
                ip = ipaddress.ip_address(address.split("%", 1)[0])
                known = any(ip in net for net in self.trusted)
            except ValueError:
                known = False
            if len(self._trusted_cache) > 4096:
                self._trusted_cache.clear()
            self._trusted_cache[address] = known
        return known

    def client_address(self, request: web.BaseRequest) -> str:
        peer = request.remote or ""
        if not self.trusted or not self.is_trusted(peer):
            return peer
        hops = [h.strip() for v in request.headers.getall("X-Forwarded-For", [])
                for h in v.split(",") if h.strip()]
        for hop in reversed(hops):
            if not self.is_trusted(hop):
                return hop
        return peer

    def scheme(self, request: web.BaseRequest) -> str:
        forwarded = request.headers.get("X-Forwarded-Proto", "")
        if forwarded and self.is_trusted(request.remote or ""):
            proto = forwarded.split(",")[0].strip().lower()
            if proto in ("http", "https"):
                return proto
        return "https" if request.secure else "http"

    def own_origin(self, request: web.BaseRequest) -> str:
        if self.public:
            return self.public
        return normalize_origin(f"{self.scheme(request)}://{request.host}")

    def origin_allowed(self, origin: str | None, request: web.BaseRequest) -> bool:
        if not origin:
            return True
        wanted = normalize_origin(origin)
        return bool(wanted) and (wanted in self.allowed or wanted == self.own_origin(request))

    def sio_origin_check(self, origin: str | None, environ: dict[str, Any]) -> bool:
        """python-engineio's ``cors_allowed_origins`` callable: both transports."""
        return self.origin_allowed(origin, environ["aiohttp.request"])


EDGE: web.AppKey[Edge] = web.AppKey("edge", Edge)
_CORS_HEADERS = "Authorization, Content-Type"
_CORS_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"


@web.middleware
async def cors(request: web.Request, handler: Any) -> web.StreamResponse:
    """CORS for the REST API, from the same allow-list as Socket.IO."""
    if not request.path.startswith("/api/"):
        return await handler(request)
    origin = request.headers.get("Origin")
    allowed = bool(origin) and request.app[EDGE].origin_allowed(origin, request)
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        if not allowed:
            return web.Response(status=403, headers={"Vary": "Origin"})
        return web.Response(status=204, headers={
            "Access-Control-Allow-Origin": origin or "", "Vary": "Origin",
            "Access-Control-Allow-Methods": _CORS_METHODS,
            "Access-Control-Allow-Headers": _CORS_HEADERS,
            "Access-Control-Max-Age": "600"})
    response = await handler(request)
    if allowed and origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers.add("Vary", "Origin")
    return response

"""One frozen settings object, built once from flags and environment."""

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Limits:
    """Bounds on what one client may send."""

    max_message_bytes: int = 128 * 1024
    max_attachments: int = 2
    rate_per_second: float = 30.0
    rate_burst: int = 60
    #: More than this many refused events within ``flood_window_s`` closes the connection.
    flood_disconnect_after: int = 100
    flood_window_s: float = 10.0
    handshake_timeout_s: float = 10.0
    #: A binary packet's attachments must all arrive within this after its header.
    attachment_timeout_s: float = 10.0
    #: An authenticated connection that has not joined within this is closed.
    join_timeout_s: float = 15 * 60.0
    #: Per client address (loopback is exempt): attempts per window, connections at once.
    address_attempts: int = 600
    address_window_s: float = 60.0
    address_max_open: int = 2000


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("data")
    serializer: str = "json"
    admin_token: str | None = None
    secret_key: str | None = None
    public_url: str | None = None
    redis_url: str | None = None
    node_name: str | None = None  # behind nginx: the pinning cookie's value (server/cluster)
    cluster_idle_s: float = 60.0  # cluster: a meeting no one here uses this long is released
    grace_s: float = 60.0
    presence_debounce_s: float = 10.0  # away this long before offline is logged
    retention_days: int = 90  # recordings are deleted this long after a meeting ends
    invite_ttl_s: int = 14 * 24 * 3600
    resume_ttl_s: int = 7 * 24 * 3600
    snapshot_every: int = 1000
    cors_origins: tuple[str, ...] = ()  # allowed browser origins besides the server's own
    trusted_proxies: tuple[str, ...] = ()  # addresses/CIDRs whose X-Forwarded-* we believe
    ping_interval_s: int = 10
    ping_timeout_s: int = 20
    log_json: bool = True
    stun_urls: tuple[str, ...] = ()
    turn_urls: tuple[str, ...] = ()
    turn_secret: str | None = None
    turn_ttl_s: int = 6 * 3600
    publisher_cap: int = 8
    janus_url: str | None = None  # Janus's HTTP API, e.g. http://127.0.0.1:8088/janus
    janus_secret: str | None = None  # Janus's api_secret
    janus_admin_key: str | None = None  # the VideoRoom plugin's admin_key
    board_max_update_bytes: int = 64 * 1024
    board_max_elements: int = 20_000
    gc_freeze: bool = True
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        if self.serializer not in ("json", "msgpack"):
            raise ValueError("The serializer must be 'json' or 'msgpack'.")

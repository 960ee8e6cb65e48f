"""Our own Janus configuration: VideoRoom over the HTTP API, nothing else.

Janus runs beside us with a config folder we write (``janus -C <dir>/janus.jcfg
-F <dir>``), never the Debian package's ``/etc/janus``: that one listens on all
interfaces with a well-known admin secret and demo rooms. Ours loads only the
VideoRoom plugin and the HTTP transport, binds the API to one private address,
turns the admin API and event handlers off, contacts no STUN server, and
requires two random secrets that only our server knows: the API secret (every
request) and the VideoRoom admin key (creating and destroying rooms).
"""

import glob
import secrets
from dataclasses import dataclass
from pathlib import Path

PLUGINS = ("audiobridge", "duktape", "echotest", "lua", "nosip", "recordplay", "sip",
           "streaming", "textroom", "videocall", "voicemail")
TRANSPORTS = ("mqtt", "nanomsg", "pfunix", "rabbitmq", "websockets")
EVENT_HANDLERS = ("gelfevh", "mqttevh", "nanomsgevh", "rabbitmqevh", "sampleevh", "wsevh")
ENV_FILE = "ledarstig.env"


@dataclass(frozen=True)
class JanusConfig:
    """Where Janus listens and what it may use; secrets are made when not given."""

    api_ip: str = "127.0.0.1"
    api_port: int = 8088
    media_ip: str | None = None  # the address Janus gathers ICE candidates on
    public_ip: str | None = None  # announced instead of media_ip (behind 1:1 NAT)
    rtp_ports: tuple[int, int] = (20000, 20999)
    api_secret: str = ""
    admin_key: str = ""
    lib_dir: str | None = None
    debug_level: int = 4

    @property
    def url(self) -> str:
        return f"http://{self.api_ip}:{self.api_port}/janus"


def library_dir() -> str:
    """Where the Debian package put Janus's plugins (``/usr/lib/<triplet>/janus``)."""
    found = sorted(glob.glob("/usr/lib/*/janus/plugins/libjanus_videoroom.so"))
    return str(Path(found[0]).parent.parent) if found else "/usr/lib/x86_64-linux-gnu/janus"


def _disable(prefix: str, names: tuple[str, ...]) -> str:
    return ",".join(f"libjanus_{prefix}{n}.so" for n in names)


def render(cfg: JanusConfig, folder: Path) -> dict[str, str]:
    """The three configuration files, by name."""
    lib = cfg.lib_dir or library_dir()
    media_ip = cfg.media_ip or cfg.api_ip
    nat_mapping = f'\n\tnat_1_1_mapping = "{cfg.public_ip}"' if cfg.public_ip else ""
    janus = f"""general: {{
\tconfigs_folder = "{folder}"
\tplugins_folder = "{lib}/plugins"
\ttransports_folder = "{lib}/transports"
\tevents_folder = "{lib}/events"
\tloggers_folder = "{lib}/loggers"
\tdebug_level = {cfg.debug_level}
\tapi_secret = "{cfg.api_secret}"
\tadmin_secret = "{secrets.token_urlsafe(24)}"
\tsession_timeout = 60
\tinterface = "{media_ip}"
}}
certificates: {{ }}
media: {{
\trtp_port_range = "{cfg.rtp_ports[0]}-{cfg.rtp_ports[1]}"
}}
nat: {{
\tice_enforce_list = "{media_ip}"
\tignore_unreachable_ice_server = true{nat_mapping}
}}
plugins: {{ disable = "{_disable("", PLUGINS)}" }}
transports: {{ disable = "{_disable("", TRANSPORTS)}" }}
loggers: {{ disable = "libjanus_jsonlog.so" }}
events: {{
\tbroadcast = false
\tdisable = "{_disable("", EVENT_HANDLERS)}"
}}
"""
    http = f"""general: {{
\tjson = "plain"
\tbase_path = "/janus"
\thttp = true
\tport = {cfg.api_port}
\tip = "{cfg.api_ip}"
\thttps = false
}}
admin: {{
\tadmin_http = false
\tadmin_https = false
}}
cors: {{ }}
"""
    videoroom = f"""general: {{
\tadmin_key = "{cfg.admin_key}"
\tlock_rtp_forward = true
}}
"""
    return {"janus.jcfg": janus, "janus.transport.http.jcfg": http,
            "janus.plugin.videoroom.jcfg": videoroom}


def write(folder: Path, cfg: JanusConfig) -> JanusConfig:
    """Write the configuration (and ``ledarstig.env``) into ``folder``; the config used."""
    if not cfg.api_secret or not cfg.admin_key:
        cfg = JanusConfig(**{**cfg.__dict__, "api_secret": cfg.api_secret
                             or secrets.token_urlsafe(24),
                             "admin_key": cfg.admin_key or secrets.token_urlsafe(24)})
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in render(cfg, folder).items():
        _private(folder / name, text)
    _private(folder / ENV_FILE, f"LEDARSTIG_JANUS_URL={cfg.url}\n"
                                f"LEDARSTIG_JANUS_SECRET={cfg.api_secret}\n"
                                f"LEDARSTIG_JANUS_ADMIN_KEY={cfg.admin_key}\n")
    return cfg


def command(folder: Path) -> list[str]:
    """How to run Janus with this folder (in the foreground, no colours)."""
    folder = folder.resolve()
    return ["janus", "-C", str(folder / "janus.jcfg"), "-F", str(folder), "-o"]


def _private(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o600)

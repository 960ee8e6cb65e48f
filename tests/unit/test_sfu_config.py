"""Our Janus configuration and the serve flags for the SFU and TURN."""

from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from click.testing import CliRunner

from server import cli
from server.sfu.janus_config import ENV_FILE, JanusConfig, write


def test_janus_config_loads_videoroom_and_http_only_on_a_private_address(
        tmp_path: Path) -> None:
    cfg = write(tmp_path / "janus", JanusConfig(api_ip="10.77.0.1", api_port=8188))
    files = {p.name: p.read_text() for p in (tmp_path / "janus").iterdir()}
    janus, http = files["janus.jcfg"], files["janus.transport.http.jcfg"]
    assert "libjanus_videoroom.so" not in janus and "libjanus_streaming.so" in janus
    assert "libjanus_websockets.so" in janus  # every transport but HTTP disabled
    assert 'ip = "10.77.0.1"' in http and "admin_http = false" in http
    assert "stun_server" not in janus and "turn_server" not in janus
    assert "janusoverlord" not in janus and f'api_secret = "{cfg.api_secret}"' in janus
    assert f'admin_key = "{cfg.admin_key}"' in files["janus.plugin.videoroom.jcfg"]
    assert len(cfg.api_secret) >= 24 and cfg.api_secret != cfg.admin_key
    again = write(tmp_path / "other", JanusConfig())
    assert again.api_secret != cfg.api_secret  # random each time
    env = files[ENV_FILE]
    assert "LEDARSTIG_JANUS_URL=http://10.77.0.1:8188/janus\n" in env
    assert oct((tmp_path / "janus" / ENV_FILE).stat().st_mode & 0o777) == "0o600"


def test_serve_takes_sfu_and_turn_settings_from_flags_and_environment(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: dict[str, Any] = {}
    def create_app(settings: Any) -> web.Application:
        seen["s"] = settings
        return web.Application()

    monkeypatch.setattr(cli, "create_app", create_app)
    monkeypatch.setattr(cli.http, "run", lambda *a, **k: None)
    monkeypatch.setattr(cli, "configure_logging", lambda **k: None)
    env = {"LEDARSTIG_JANUS_URL": "http://127.0.0.1:8088/janus",
           "LEDARSTIG_JANUS_SECRET": "api-secret", "LEDARSTIG_JANUS_ADMIN_KEY": "admin-key",
           "LEDARSTIG_TURN_SECRET": "turn-secret",
           "LEDARSTIG_STUN_URLS": "stun:a.example:3478 stun:b.example:3478"}
    result = CliRunner().invoke(cli.main, [
        "serve", "--data-dir", str(tmp_path), "--loop", "asyncio", "--log-format", "console",
        "--turn-url", "turn:t.example:3478?transport=udp",
        "--turn-url", "turns:t.example:443?transport=tcp"], env=env)
    assert result.exit_code == 0, result.output
    s = seen["s"]
    assert (s.janus_url, s.janus_secret, s.janus_admin_key) == (
        "http://127.0.0.1:8088/janus", "api-secret", "admin-key")
    assert s.stun_urls == ("stun:a.example:3478", "stun:b.example:3478")
    assert s.turn_urls == ("turn:t.example:3478?transport=udp",
                           "turns:t.example:443?transport=tcp")
    assert s.turn_secret == "turn-secret"

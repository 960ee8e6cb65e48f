"""The browser's store (web_client/src/store.js), run in Node: who is online."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

STORE = Path(__file__).resolve().parents[2] / "web_client" / "src" / "store.js"

SCRIPT = """
import { Store } from %s
const s = new Store()
const joined = (seq, id) => ({ seq, ts: seq, actor: id, type: 'participant.joined',
  data: { id, name: id, municipality: 'Vasa', role: 'participant', room: 'plenary' } })
s.loadWelcome({ seq: 1, participant: 'me', role: 'participant', online: ['me'],
  server_time: 0, snapshot: { seq: 1, meeting: { id: 'm' }, participants: [
    { id: 'me', name: 'me', present: true, room: 'plenary' }], rooms: [], hands: [],
    chat: [] } })
s.apply(joined(2, 'anna'))
const out = { live: [...s.online].sort() }
s.loadWelcome({ seq: 4, participant: 'me', role: 'participant', online: ['me'],
  server_time: 0, missed: [joined(3, 'bo'), joined(4, 'cia')] })
out.welcomeMissed = [...s.online].sort()
s.online = new Set(['me', 'anna'])
s.catchUp({ seq: 6, online: ['me', 'dan'], missed: [joined(5, 'dan'), joined(6, 'eva')] })
out.caughtUp = [...s.online].sort()
out.seq = s.seq
console.log(JSON.stringify(out))
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="Node is not installed")
def test_a_live_join_is_online_and_a_missed_one_is_not(tmp_path: Path) -> None:
    """A live participant.joined means online (no presence follows a join); the joins
    a welcome or a catch-up replays do not: their welcome.online is the present."""
    script = tmp_path / "online.mjs"
    script.write_text(SCRIPT % json.dumps(STORE.as_uri()))
    out = json.loads(subprocess.run(["node", str(script)], check=True, capture_output=True,
                                    text=True, timeout=30).stdout)
    assert out["live"] == ["anna", "me"]
    assert out["welcomeMissed"] == ["me"]
    assert out["caughtUp"] == ["dan", "me"]  # eva's join was missed; she left meanwhile
    assert out["seq"] == 6

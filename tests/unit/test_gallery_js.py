"""The plenary gallery's choices (web_client/src/media/gallery.js), run in Node."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

GALLERY = Path(__file__).resolve().parents[2] / "web_client" / "src" / "media" / "gallery.js"

SCRIPT = """
import { Gallery, PAGE_SIZE } from %s
const g = new Gallery()
const ids = Array.from({ length: 60 }, (_, i) => `p${String(i).padStart(2, '0')}`)
g.setFeeds(ids)
const out = { size: PAGE_SIZE, pages: g.pages(), first: g.visible() }
g.next(); g.next(); out.third = g.visible()
g.next(); out.wrapped = g.page
g.togglePin('p59'); out.pinnedFirst = g.visible()[0]
out.changed = g.hear(new Map([['p30', 0.3], ['p31', 0.01]]), 1000)
out.speakerSecond = g.visible().slice(0, 2)
out.again = g.hear(new Map([['p30', 0.2]]), 1500)
g.speakingOnly = true
out.videoOf = g.wanted(2000).filter((f) => f.video).map((f) => f.id).sort()
out.audioAll = g.wanted(2000).every((f) => f.audio)
out.later = g.wanted(9000).filter((f) => f.video).map((f) => f.id)
g.stage = new Set(['p40']); g.speakingOnly = false
out.stageOrder = g.visible().slice(0, 3)
g.speakingOnly = true
out.stageVideo = g.wanted(9000).filter((f) => f.video).map((f) => f.id).sort()
out.high = g.wanted(9000).filter((f) => f.layer === 'high').map((f) => f.id).sort()
out.lowOthers = g.wanted(9000).filter((f) => f.layer === 'low').length
g.setFeeds(ids.slice(0, 10)); out.clamped = [g.page, g.pages(), g.visible().length]
console.log(JSON.stringify(out))
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="Node is not installed")
def test_pages_pinning_active_speaker_and_speaking_only() -> None:
    script = SCRIPT % json.dumps(GALLERY.as_uri())
    run = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True,
                         text=True, timeout=30, check=True)
    out = json.loads(run.stdout)
    assert out["size"] == 25 and out["pages"] == 3
    assert out["first"] == [f"p{i:02}" for i in range(25)]
    assert out["third"] == [f"p{i:02}" for i in range(50, 60)]
    assert out["wrapped"] == 0
    assert out["pinnedFirst"] == "p59"
    assert out["changed"] is True and out["again"] is False
    assert out["speakerSecond"] == ["p59", "p30"]
    assert out["videoOf"] == ["p30", "p59"]  # the speaker and the pinned one
    assert out["audioAll"] is True
    assert out["later"] == ["p59"]  # p30 spoke too long ago
    assert out["stageOrder"] == ["p59", "p40", "p30"]  # pinned, on stage, speaking
    assert out["stageVideo"] == ["p40", "p59"]
    assert out["high"] == ["p30", "p40", "p59"]  # pinned, on stage, speaker: the full layer
    assert out["lowOthers"] == 22  # thumbnails: the simulcast low layer
    assert out["clamped"] == [0, 1, 10]

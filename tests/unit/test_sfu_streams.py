"""Which Janus streams a subscription asks for, and how the answer's streams are named."""

from server.sfu.videorooms import SCREEN, Feed, VideoRoom, _carried, _streams

CAMERA_AND_SCREEN = [{"type": "audio", "mid": "0"}, {"type": "video", "mid": "1"},
                     {"type": "video", "mid": "2", "description": SCREEN}]


def room() -> VideoRoom:
    return VideoRoom(1, feeds={"anna": Feed(11, CAMERA_AND_SCREEN, live=True),
                               "bo": Feed(12, CAMERA_AND_SCREEN[:2], live=True),
                               "cleo": Feed(13, CAMERA_AND_SCREEN, live=False)})


def test_video_off_leaves_out_the_face_but_not_the_shared_screen() -> None:
    assert _streams(room(), [("anna", True, False), ("bo", True, False)]) == [
        {"feed": 11, "mid": "0"}, {"feed": 11, "mid": "2"}, {"feed": 12, "mid": "0"}]
    assert _streams(room(), [("anna", True, True)]) == [
        {"feed": 11, "mid": m} for m in ("0", "1", "2")]
    assert _streams(room(), [("cleo", True, True), ("dan", True, True)]) == []  # not live


def test_the_answer_marks_the_shared_screen() -> None:
    answer = {"streams": [
        {"mid": "0", "type": "audio", "feed_id": 11, "feed_mid": "0"},
        {"mid": "1", "type": "video", "feed_id": 11, "feed_mid": "1"},
        {"mid": "2", "type": "video", "feed_id": 11, "feed_mid": "2"},
        {"mid": "3", "type": "video", "feed_id": 12, "feed_mid": "1"},
        {"mid": "4", "type": "video", "feed_id": 12, "feed_mid": "2", "active": False},
        {"mid": "5", "type": "data"}]}
    assert _carried(room(), answer) == [
        {"mid": "0", "type": "audio", "participant": "anna"},
        {"mid": "1", "type": "video", "participant": "anna"},
        {"mid": "2", "type": "video", "participant": "anna", "screen": True},
        {"mid": "3", "type": "video", "participant": "bo"}]


def test_a_screen_no_longer_shared_is_asked_for_by_no_one() -> None:
    """Stopping a share renegotiates the publisher: Janus keeps the stream, disabled and
    without its description, until a share takes it up again."""
    stopped = [*CAMERA_AND_SCREEN[:2], {"type": "video", "mid": "2", "disabled": True}]
    feeds = VideoRoom(1, feeds={"anna": Feed(11, stopped, live=True)})
    assert feeds.feeds["anna"].screen is None
    assert _streams(feeds, [("anna", True, True)]) == [{"feed": 11, "mid": m} for m in "01"]

"""Metrics.event: one counter child per event type, looked up once."""

from server.metrics import Metrics


def test_event_counter_child_is_kept_and_counts() -> None:
    m = Metrics()
    first = m.event("chat.sent")
    assert m.event("chat.sent") is first
    first.inc()
    m.event("chat.sent").inc()
    m.event("hand.raised").inc()
    text = m.render().decode()
    assert 'ledarstig_events_total{type="chat.sent"} 2.0' in text
    assert 'ledarstig_events_total{type="hand.raised"} 1.0' in text

"""Prometheus metrics, one registry per app (no process-global state)."""

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.connected = Gauge("ledarstig_connected_clients", "Socket.IO connections.",
                               registry=r)
        self.meetings = Gauge("ledarstig_meetings", "Meetings held in memory.", registry=r)
        self.events = Counter("ledarstig_events_total", "Log events appended, by type.",
                              ["type"], registry=r)
        self._event_children: dict[str, Any] = {}
        self.rejected = Counter("ledarstig_rejected_total",
                                "Client messages refused, by error code.", ["code"], registry=r)
        self.relayed = Counter("ledarstig_signals_relayed_total", "Signals relayed.",
                               registry=r)
        self.store_commit = Histogram(
            "ledarstig_store_commit_seconds", "Time to make one batch of events durable.",
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0), registry=r)
        self.timer_lateness = Histogram(
            "ledarstig_timer_lateness_seconds", "How late scheduled jobs fire.",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0), registry=r)
        self.redis_connections = Gauge(
            "ledarstig_redis_connections",
            "Connections the Redis command pool has opened: the most commands ever in "
            "flight at once (--redis-url; the pool holds at most 64).", registry=r)
        self.recovery = Gauge("ledarstig_recovery_seconds",
                              "Time the last start-up took to fold every meeting.", registry=r)
        self._counts = _Counts()
        r.register(self._counts)

    def count(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        """A counter kept as a plain number by whatever counts (the hub, the socket
        server), read at each scrape; shown as ``<name>_total``."""
        self._counts.read.append((name, documentation, read))

    def event(self, event_type: str) -> Any:
        """The ``events`` counter of one type (``labels`` looks it up under a lock and
        costs more than the increment; there are a few dozen types)."""
        child = self._event_children.get(event_type)
        if child is None:
            child = self._event_children[event_type] = self.events.labels(event_type)
        return child

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))


class _Counts(Collector):
    """The counters of ``Metrics.count``."""

    def __init__(self) -> None:
        self.read: list[tuple[str, str, Callable[[], float]]] = []

    def collect(self) -> Iterator[Metric]:
        for name, documentation, read in self.read:
            yield CounterMetricFamily(name, documentation, value=read())

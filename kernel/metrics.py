"""What the coach counts for Prometheus (`/metrics` on the app and the worker). Each process counts its own; the
depths of the database's queues (inbox, xAPI outbox, deliveries) are read when scraped (`watch_depths`).

Labels are few and closed (platform, outcome, kind, state, route template): never a learner, a question or a URL."""

from __future__ import annotations

import logging
from typing import Callable

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

QUESTIONS = Counter("coach_questions", "Questions asked, by platform and outcome (answered, abstained, service: "
                    "about the learner, failed: an error)", ["platform", "outcome"])
ANSWER_SECONDS = Histogram("coach_answer_seconds", "Time from a question to its reply, by platform", ["platform"],
                           buckets=(0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60))
DELIVERIES = Counter("coach_deliveries", "Proactive messages (nudges, lessons, reviews) by kind and final state",
                     ["kind", "state"])
ERRORS = Counter("coach_errors", "Errors logged, by the part of the coach that logged them", ["part"])
HTTP_REQUESTS = Counter("coach_http_requests", "HTTP requests served, by route and status class",
                        ["method", "route", "status"])
HTTP_SECONDS = Histogram("coach_http_seconds", "HTTP request latency (to the response's start), by route",
                         ["route"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


class ErrorCounter(logging.Filter):
    """On a handler: every record at ERROR or above counts once in coach_errors, by its top two logger names."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR:
            ERRORS.labels(".".join(record.name.split(".")[:2])).inc()
        return True


class _Depths(Collector):
    def __init__(self, read: Callable[[], dict[str, int]]) -> None:
        self.read = read

    def collect(self):
        family = GaugeMetricFamily("coach_queue_depth", "Items waiting in the database's queues", labels=["queue"])
        try:
            for queue, depth in self.read().items():
                family.add_metric([queue], depth)
        except Exception:  # the database away: the scrape still answers (coach_ready says what is wrong)
            logging.getLogger(__name__).warning("metrics: the queue depths could not be read", exc_info=True)
        yield family


_watching: list[_Depths] = []


def watch_depths(read: Callable[[], dict[str, int]]) -> None:
    """Report these queue depths at every scrape (one reader per process; a later call replaces the earlier)."""
    for old in _watching:
        REGISTRY.unregister(old)
    _watching[:] = [_Depths(read)]
    REGISTRY.register(_watching[0])

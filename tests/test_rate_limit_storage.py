"""Rate limiting without Redis: each worker's counters in memory (``SweptMemoryStorage``),
counting exactly as limits' own memory storage, without a thread started on every hit."""

from __future__ import annotations

import threading
import time

import pytest
from limits.storage import MemoryStorage, storage_from_string

from partnership_api import ratelimits
from partnership_api.ratelimits import SweptMemoryStorage, limiter


class CountedTimer(threading.Timer):
    started = 0

    def start(self):
        type(self).started += 1
        super().start()


@pytest.fixture
def counted_timers(monkeypatch):
    import limits.storage.memory as memory

    CountedTimer.started = 0
    monkeypatch.setattr(memory.threading, "Timer", CountedTimer)
    return CountedTimer


def test_an_app_without_redis_counts_in_the_swept_memory_storage(app):
    assert not app.config.get("REDIS_URL")
    assert isinstance(limiter.storage, SweptMemoryStorage)
    assert isinstance(storage_from_string(ratelimits.MEMORY_STORAGE_URI), SweptMemoryStorage)


def test_hits_a_few_milliseconds_apart_start_one_sweep_not_one_each(counted_timers):
    plain, swept = MemoryStorage(), SweptMemoryStorage()
    for storage in (plain, swept):
        counted_timers.started = 0
        for _ in range(8):
            storage.incr("user:1", expiry=60)
            time.sleep(0.02)  # longer than the sweep timer's 10 ms: it has ended
        started = counted_timers.started
        assert storage.get("user:1") == 8
        if storage is plain:
            assert started >= 7, "limits' own storage no longer starts a sweep per hit"
        else:
            assert started <= 1


def test_an_expired_counter_starts_again_from_nothing():
    storage = SweptMemoryStorage()
    storage.incr("user:2", expiry=0.05)
    storage.incr("user:2", expiry=0.05)
    assert storage.get("user:2") == 2
    time.sleep(0.08)
    assert storage.get("user:2") == 0
    assert storage.incr("user:2", expiry=0.05) == 1


def test_expired_counters_are_still_swept_out_of_memory(monkeypatch):
    monkeypatch.setattr(ratelimits, "SWEEP_EVERY_SECONDS", 0.05)
    storage = SweptMemoryStorage()
    storage.incr("user:gone", expiry=0.01)
    time.sleep(0.1)
    storage.incr("user:here", expiry=60)  # a sweep is due: it runs 10 ms later
    deadline = time.monotonic() + 2
    while "user:gone" in storage.storage and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "user:gone" not in storage.storage
    assert storage.get("user:here") == 1

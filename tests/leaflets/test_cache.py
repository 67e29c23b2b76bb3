"""The cache of rendered files on disk: its cap, least recently used out first, and where it lives."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from coordinator.leaflets.cache import LeafletCache, app_cache, cache_key


def test_the_cache_stays_under_its_cap_dropping_the_least_recently_used(tmp_path):
    cache = LeafletCache(tmp_path / "cache", max_bytes=3000)
    keys = [cache_key(n=n) for n in range(4)]
    for index, key in enumerate(keys[:3]):
        cache.put(key, bytes([index]) * 1000)
        past = time.time() - 100 + index
        os.utime(cache.path(key, ".pdf"), (past, past))
    assert cache.get(keys[0]) == b"\x00" * 1000  # used now: the most recent
    cache.put(keys[3], b"\x03" * 1000)
    assert cache.size() <= 3000
    assert cache.get(keys[1]) is None  # the least recently used went first
    assert cache.get(keys[0]) is not None and cache.get(keys[2]) is not None and cache.get(keys[3]) is not None
    cache.put(cache_key(n="big"), b"x" * 5000)  # larger than the whole cache: not kept
    assert cache.size() <= 3000
    with pytest.raises(ValueError):
        cache.path("../../etc/passwd", ".pdf")


def test_the_apps_cache_lives_in_the_instance_folder_with_the_configured_cap(app):
    assert app_cache().max_bytes == 500 * 1024 * 1024  # LEAFLET_CACHE_MAX_MB unset: 500 MB
    app.config["LEAFLET_CACHE_MAX_MB"] = 2
    cache = app_cache()
    assert cache.folder == Path(app.instance_path) / "leaflet-cache"
    assert cache.max_bytes == 2 * 1024 * 1024

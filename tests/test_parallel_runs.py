"""The suite runs in parallel processes: each keeps its rate limits in a Redis database of its own."""

from tests.helpers.databases import rate_limit_storage


def test_each_parallel_worker_counts_rate_limits_in_its_own_redis_database(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    assert rate_limit_storage("redis://127.0.0.1:6379/15") == "redis://127.0.0.1:6379/15"
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    assert rate_limit_storage("redis://127.0.0.1:6379/15") == "redis://127.0.0.1:6379/14"
    assert rate_limit_storage("memory://") == "memory://", "the in-memory store is per process already"
    monkeypatch.delenv("PYTEST_XDIST_WORKER")
    assert rate_limit_storage("redis://127.0.0.1:6379/15") == "redis://127.0.0.1:6379/15"

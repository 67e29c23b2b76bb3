"""A content-addressed cache of rendered leaflets, print runs, delivery sheets and thumbnails, on disk.

A file's name is the sha256 of every input that decides its bytes (`cache_key`), so an entry never goes
stale: changed content, settings, date or template make a new key. The cache lives in
instance/leaflet-cache/ and holds at most LEAFLET_CACHE_MAX_MB (default 500); beyond that the least recently
used files are removed. A hit touches the file's modification time, which is what "recently used" means here
(access times are often not kept: relatime, noatime).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import asdict, is_dataclass
from datetime import date
from pathlib import Path

from flask import current_app

log = logging.getLogger(__name__)

DEFAULT_MAX_MB = 500
FOLDER_NAME = "leaflet-cache"
SUFFIXES = (".pdf", ".png")


def _plain(value: object) -> object:
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def cache_key(**inputs: object) -> str:
    """The sha256 of every input, as canonical JSON: dataclasses, dates and tuples included."""
    text = json.dumps(_plain(inputs), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class LeafletCache:
    """Files named by their key under one folder, at most `max_bytes` in all, least recently used removed first."""

    def __init__(self, folder: Path, max_bytes: int):
        self.folder = Path(folder)
        self.max_bytes = max_bytes

    def path(self, key: str, suffix: str) -> Path:
        """Where the entry for `key` lives (two-character subfolders keep folders small)."""
        if suffix not in SUFFIXES or len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError("not a cache key")
        return self.folder / key[:2] / f"{key}{suffix}"

    def get(self, key: str, suffix: str = ".pdf") -> bytes | None:
        """The cached bytes, marked as just used; None on a miss."""
        path = self.path(key, suffix)
        try:
            data = path.read_bytes()
            os.utime(path)
        except FileNotFoundError:  # never stored, or evicted meanwhile by another process
            return None
        return data

    def put(self, key: str, data: bytes, suffix: str = ".pdf") -> None:
        """Store the bytes (atomically: a reader never sees half a file), then keep the cache under its cap."""
        if len(data) > self.max_bytes:
            return
        path = self.path(key, suffix)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.evict()

    def entries(self) -> list[tuple[float, int, Path]]:
        """(last used, size, path) of every cached file."""
        found = []
        if not self.folder.is_dir():
            return found
        for sub in os.scandir(self.folder):
            if not sub.is_dir(follow_symlinks=False):
                continue
            for entry in os.scandir(sub.path):
                if entry.name.startswith(".tmp-") or not entry.name.endswith(SUFFIXES):
                    continue
                try:
                    stat = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                found.append((stat.st_mtime, stat.st_size, Path(entry.path)))
        return found

    def size(self) -> int:
        """Bytes held."""
        return sum(size for _, size, _ in self.entries())

    def evict(self) -> int:
        """Remove least recently used files until the cache is within its cap; return how many went."""
        entries = sorted(self.entries(), key=lambda entry: entry[0])
        total = sum(size for _, size, _ in entries)
        removed = 0
        for _, size, path in entries:
            if total <= self.max_bytes:
                break
            path.unlink(missing_ok=True)
            total -= size
            removed += 1
        if removed:
            log.info("leaflet cache: %d least recently used file(s) removed to stay within the cap", removed)
        return removed


def app_cache() -> LeafletCache:
    """The app's cache: instance/leaflet-cache/, capped at LEAFLET_CACHE_MAX_MB."""
    max_mb = current_app.config.get("LEAFLET_CACHE_MAX_MB", DEFAULT_MAX_MB)
    return LeafletCache(Path(current_app.instance_path) / FOLDER_NAME, int(float(max_mb) * 1024 * 1024))

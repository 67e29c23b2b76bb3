"""A content-addressed cache of rendered leaflets, print runs, delivery sheets and thumbnails, on disk.

A file's name is the sha256 of every input that decides its bytes (`cache_key`), so an entry never goes
stale: changed content, settings, date or template make a new key. The cache lives in
instance/leaflet-cache/ and holds at most LEAFLET_CACHE_MAX_MB (default 500); beyond that the least recently
used files are removed. A hit touches the file's modification time, which is what "recently used" means here
(access times are often not kept: relatime, noatime).

Beside the files, the folder holds what every web process must see of renders asked for but not yet done
(coordinator/leaflets/render_queue.py): a mark per key in `pending/` (its modification time is when it was asked
for, which orders the queue), a key's `.json` problem when its text cannot be printed, and `render-seconds.json`,
how long a render has lately taken. The folder is shared by the web processes and the worker, so they are files.
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
SUFFIXES = (".pdf", ".png", ".json")
PENDING_FOLDER = "pending"
TIMINGS_FILE = "render-seconds.json"


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
        _check_key(key)
        if suffix not in SUFFIXES:
            raise ValueError("not a cache suffix")
        return self.folder / key[:2] / f"{key}{suffix}"

    def has(self, key: str, suffix: str = ".pdf") -> bool:
        """Whether the entry is there, without reading it or marking it used."""
        return self.path(key, suffix).is_file()

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
        _write_atomically(self.path(key, suffix), data)
        self.evict()

    # --- Renders asked for and not yet done (render_queue.py) -----------------------------------------------

    def pending_path(self, key: str) -> Path:
        """The mark that a render of `key` has been asked for."""
        _check_key(key)
        return self.folder / PENDING_FOLDER / key

    def mark_pending(self, key: str, owner: str) -> bool:
        """Mark `key` as asked for, by `owner`; False if someone marked it first (they render it, not us)."""
        path = self.pending_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(handle, "w") as out:
            out.write(owner)
        return True

    def pending_owner(self, key: str) -> tuple[float, str] | None:
        """(when it was asked for, by whom) for a key being rendered, else None."""
        path = self.pending_path(key)
        try:
            return path.stat().st_mtime, path.read_text()
        except FileNotFoundError:
            return None

    def clear_pending(self, key: str) -> None:
        """The render of `key` is over (done, refused or abandoned)."""
        self.pending_path(key).unlink(missing_ok=True)

    def pending_times(self) -> list[float]:
        """When each render still waiting or under way was asked for."""
        folder = self.folder / PENDING_FOLDER
        times = []
        if not folder.is_dir():
            return times
        for entry in os.scandir(folder):
            try:
                times.append(entry.stat(follow_symlinks=False).st_mtime)
            except FileNotFoundError:  # finished while we looked
                continue
        return times

    def read_timings(self) -> dict:
        """The shared record of how long renders have lately taken ({} before the first)."""
        try:
            return json.loads((self.folder / TIMINGS_FILE).read_text())
        except (FileNotFoundError, ValueError):
            return {}

    def write_timings(self, timings: dict) -> None:
        """Replace the shared record of render times."""
        _write_atomically(self.folder / TIMINGS_FILE, json.dumps(timings).encode())

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


def _check_key(key: str) -> None:
    if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
        raise ValueError("not a cache key")


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def app_cache() -> LeafletCache:
    """The app's cache: instance/leaflet-cache/, capped at LEAFLET_CACHE_MAX_MB."""
    max_mb = current_app.config.get("LEAFLET_CACHE_MAX_MB", DEFAULT_MAX_MB)
    return LeafletCache(Path(current_app.instance_path) / FOLDER_NAME, int(float(max_mb) * 1024 * 1024))

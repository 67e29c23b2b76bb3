""".env.example keeps up with config.py: every setting read is listed, and nothing listed is read nowhere.

The variables are found by reading the code (ast), not by importing it, so a setting added to config.py
with `os.environ.get`, `_int` or `_bool` fails here until .env.example lists it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV_EXAMPLE = ROOT / ".env.example"
# A setting, set (`NAME=value`) or shown at an example value and left at its default (`# NAME=value`).
LISTED = re.compile(r"^(?:#\s?)?([A-Z][A-Z0-9_]*)=(.*)$")


def _is_os_environ(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ" and isinstance(node.value, ast.Name) \
        and node.value.id == "os"


def _is_environ_read(call: ast.Call) -> bool:
    """os.environ.get(...) or os.getenv(...)."""
    func = call.func
    return isinstance(func, ast.Attribute) and (
        (func.attr == "get" and _is_os_environ(func.value))
        or (func.attr == "getenv" and isinstance(func.value, ast.Name) and func.value.id == "os")
    )


def environment_reads(source: str) -> set[str]:
    """Names of the environment variables a module reads, directly or through its own `_int("NAME", ...)` readers."""
    tree = ast.parse(source)
    # A module function that reads a variable named by its argument (config.py's _int and _bool).
    readers = {
        function.name
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef)
        and any(
            isinstance(call, ast.Call) and _is_environ_read(call) and call.args
            and not isinstance(call.args[0], ast.Constant)
            for call in ast.walk(function)
        )
    }
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            is_reader = isinstance(node.func, ast.Name) and node.func.id in readers
            if _is_environ_read(node) or is_reader:
                names.add(node.args[0].value)
        elif isinstance(node, ast.Subscript) and _is_os_environ(node.value) and isinstance(node.ctx, ast.Load) \
                and isinstance(node.slice, ast.Constant):
            names.add(node.slice.value)
    return {name for name in names if isinstance(name, str)}


def listed_settings() -> dict[str, list[str]]:
    """Each name in .env.example with the example values given for it."""
    listed: dict[str, list[str]] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = LISTED.match(line)
        if match:
            listed.setdefault(match[1], []).append(match[2])
    return listed


def test_every_setting_config_reads_is_in_env_example():
    read = environment_reads((ROOT / "config.py").read_text(encoding="utf-8"))
    # The parse itself must see each way config.py reads a setting, or an empty set would pass.
    assert {"SECRET_KEY", "COORDINATOR_INSTANCE", "DATABASE_URL", "SESSION_IDLE_MINUTES", "MAIL_USE_TLS",
            "BOUNCE_IMAP_FOLDER", "SIGNUP_LIMIT_PER_EMAIL"} <= read
    missing = sorted(read - listed_settings().keys())
    assert not missing, f"config.py reads these, .env.example does not list them: {missing}"


def test_the_gunicorn_and_app_settings_the_readme_names_are_listed_too():
    read = environment_reads((ROOT / "gunicorn.conf.py").read_text(encoding="utf-8"))
    assert {"GUNICORN_BIND", "WEB_CONCURRENCY", "GUNICORN_THREADS", "FORWARDED_ALLOW_IPS"} <= read
    assert read | {"COORDINATOR_ENV"} <= listed_settings().keys()


def test_nothing_listed_is_a_setting_no_code_reads():
    """A name read nowhere (a renamed setting) would make an admin believe they had changed something."""
    sources = [ROOT / "config.py", ROOT / "gunicorn.conf.py", *(ROOT / "coordinator").rglob("*.py"),
               *(ROOT / "tests" / "helpers").rglob("*.py")]
    read = set().union(*(environment_reads(path.read_text(encoding="utf-8")) for path in sources))
    stale = sorted(listed_settings().keys() - read)
    assert not stale, f".env.example lists settings nothing reads: {stale}"


def test_each_setting_is_listed_once_and_no_secret_is_real():
    listed = listed_settings()
    assert [name for name, values in listed.items() if len(values) > 1] == []
    for name in ("SECRET_KEY", "MAIL_PASSWORD", "BOUNCE_IMAP_PASSWORD"):
        (value,) = listed[name]
        assert value == "" or "change-me" in value, f"{name} must be an obvious placeholder, not {value!r}"
    assert "change-me" in listed["DATABASE_URL"][0]


def test_the_parse_finds_a_new_setting_however_it_is_read():
    """What makes the first test fail when config.py gains a setting .env.example does not list."""
    source = (
        "import os\n"
        "def _int(name, default):\n    value = os.environ.get(name)\n    return int(value) if value else default\n"
        "A = _int('NEW_NUMBER', 3)\nB = os.environ.get('NEW_TEXT', '')\nC = os.environ['NEW_REQUIRED']\n"
        "D = os.getenv('NEW_GETENV')\nos.environ['NOT_READ'] = 'written, not read'\nE = {}.get('NOT_ENV')\n"
    )
    assert environment_reads(source) == {"NEW_NUMBER", "NEW_TEXT", "NEW_REQUIRED", "NEW_GETENV"}
    assert "NEW_NUMBER" not in listed_settings()

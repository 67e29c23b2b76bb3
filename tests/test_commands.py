"""Each domain's commands live in its own `cli.py`, under the names and with the options admins' scripts use."""

from __future__ import annotations

from collections.abc import Iterator

import click

from coordinator.leaflets.layouts import LAYOUTS, PRINT_MODES

LAYOUT_CHOICES = tuple(LAYOUTS)

# Command: (the module it lives in, each parameter as typed, with the choices it offers where it has any).
COMMANDS = {
    "create-admin": ("coordinator.auth.cli", ["email", "--name"]),
    "import-coordinators": ("coordinator.admin.cli", ["csv_file", "--no-invitations"]),
    "import-schemes": ("coordinator.admin.cli", ["csv_file"]),
    "import-subscribers": ("coordinator.bulletins.cli", ["--scheme", "csv_file"]),
    "expire-subscribers": ("coordinator.bulletins.cli", []),
    "bulletin send": (
        "coordinator.bulletins.cli", ["--scheme", "--all-schemes", "--campaign", "--helplines", "--subject", "--intro"],
    ),
    "bulletin process-bounces": ("coordinator.bulletins.cli", ["--stdin"]),
    "content export": ("coordinator.content.cli", ["pack_file", "--no-images"]),
    "content import": ("coordinator.content.cli", ["pack_file", "--approve-as"]),
    "content review-reminder": ("coordinator.content.cli", []),
    "leaflet render": (
        "coordinator.leaflets.cli",
        ["--campaign", "--helplines", ("--layout", LAYOUT_CHOICES), ("--mode", PRINT_MODES), "--large-print", "--scheme",
         "--copies", "--signup", "--language", "--second-language", "--out"],
    ),
    "print-order": (
        "coordinator.leaflets.cli",
        ["--campaign", "--helplines", ("--layout", LAYOUT_CHOICES), "--large-print", "--scheme", "--out"],
    ),
    "worker": ("coordinator.cli", ["--burst", "--max-jobs"]),
    "seed-demo": ("coordinator.cli", []),
}


def commands_of(group: click.Group, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
    """Every command under `group`, by its full name ("leaflet render")."""
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from commands_of(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", command


def described(param: click.Parameter) -> str | tuple[str, tuple[str, ...]]:
    """A parameter as typed, with its choices if it offers some."""
    if isinstance(param.type, click.Choice):
        return param.opts[0], tuple(param.type.choices)
    return param.opts[0]


def test_each_domain_keeps_its_commands_in_its_own_module_with_the_same_names_and_options(app):
    found = {
        name: (command.callback.__module__, [described(param) for param in command.params])
        for name, command in commands_of(app.cli)
        if not name.startswith("db ")  # Flask-Migrate's
    }
    assert found == COMMANDS

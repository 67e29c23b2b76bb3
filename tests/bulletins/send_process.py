"""A bulletin's sending job in a process of its own, for the crash test.

Run as `python -m tests.bulletins.send_process SETTINGS.json`; the JSON names the database, the SMTP server,
the lease and what to do: "send" runs `send_bulletin(bulletin_id)` as a worker would, "resume" runs
`resume_unfinished_bulletins()` as a restarted worker's first sweep would (jobs run at once here).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from config import TestConfig
from coordinator import create_app
from coordinator.bulletins.sending import resume_unfinished_bulletins, send_bulletin


def main(settings_file: str) -> None:
    settings = json.loads(Path(settings_file).read_text())
    instance = Path(settings["instance"])
    config = type("SendProcessConfig", (TestConfig,), {
        "SQLALCHEMY_DATABASE_URI": settings["database_url"],
        "SECRET_KEY": settings["secret_key"],
        "INSTANCE_DIR": instance,
        "MAIL_OUTBOX_DIR": instance / "outbox",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": settings["smtp_port"],
        "BULLETIN_LEASE_SECONDS": settings["lease_seconds"],
    })
    app = create_app(config)
    with app.app_context():
        if settings["action"] == "send":
            print(f"sent {send_bulletin(settings['bulletin_id'])}", flush=True)
        else:
            print(f"resumed {resume_unfinished_bulletins()}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])

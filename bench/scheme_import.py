"""Scheme import benchmark: prints how long one CSV of 600 schemes with 5,000 streets takes to import, against
the goal in issue 16 ("under 10 s").

The file is made as an association's spreadsheet would be (one line per street, a scheme's lines together,
its ward and postcode district on its first line) and goes through `import_schemes`, as the admins' page and
`flask import-schemes` call it: read and checked line by line, then the schemes, streets and audit entries
written and committed.

Run: .venv/bin/python bench/scheme_import.py [--schemes 600] [--streets 5000] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bulletins import build_app, drop_postgres_schema, postgres_schema_url
from coordinator.auth.models import Role, User
from coordinator.extensions import db
from coordinator.schemes.scheme_import import import_schemes

GOAL_SECONDS = 10.0
DISTRICTS = ("BR1", "BR2", "BR3", "BR4", "BR5", "BR6", "BR7", "SE9", "SE12", "DA14")


def schemes_file(schemes: int, streets: int) -> bytes:
    """The CSV: `streets` lines shared out over `schemes` schemes, each scheme's lines together."""
    lines = ["scheme,ward,postcode_district,street,postcode,households,no_leaflets"]
    for n in range(streets):
        scheme = n * schemes // streets
        first = n == 0 or (n - 1) * schemes // streets != scheme
        district = DISTRICTS[scheme % len(DISTRICTS)]
        ward, code = (f"Ward {scheme % 45}", district) if first else ("", "")
        lines.append(f"Scheme {scheme:03d} Watch,{ward},{code},{n % 97} Acacia Avenue Part {n},{district} {n % 9}EA,"
                     f"{12 + n % 60},{n % 4}")
    return ("\r\n".join(lines) + "\r\n").encode()


def main() -> None:
    """Import the file once into an empty database and print the time."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schemes", type=int, default=600)
    parser.add_argument("--streets", type=int, default=5000)
    parser.add_argument("--database-url", default="",
                        help="A PostgreSQL server to use (in a schema of the bench's own, dropped afterwards). "
                        "Default: a new SQLite file in a temporary folder.")
    args = parser.parse_args()
    data = schemes_file(args.schemes, args.streets)
    schema = f"nwc_bench_scheme_import_{os.getpid()}"
    with tempfile.TemporaryDirectory() as folder:
        instance = Path(folder)
        url = postgres_schema_url(args.database_url, schema) if args.database_url else \
            f"sqlite:///{instance / 'bench.sqlite3'}"
        try:
            app = build_app(url, instance, 25)
            with app.app_context():
                db.create_all()
                admin = User(email="admin@example.org", name="Ada Admin", role=Role.ADMIN, is_active_account=True)
                db.session.add(admin)
                db.session.commit()
                started = time.perf_counter()
                report = import_schemes(data, admin)
                db.session.commit()
                elapsed = time.perf_counter() - started
                db.session.remove()
                db.engine.dispose()
        finally:
            if args.database_url:
                drop_postgres_schema(args.database_url, schema)
    if not report.ok:
        sys.exit("\n".join(report.lines()[:10]))
    print(f"Database: {'PostgreSQL' if args.database_url else 'SQLite'}; file of {len(data) / 1024:,.0f} KB, "
          f"{args.streets:,} lines")
    print(f"{report.summary()} in {elapsed:.2f} s (goal < {GOAL_SECONDS:.0f} s: "
          f"{'met' if elapsed < GOAL_SECONDS else 'NOT met'})")


if __name__ == "__main__":
    main()

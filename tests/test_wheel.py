"""A non-editable install works: the wheel carries the templates, stylesheets and fonts, the migrations and config.py.

The wheel is built from a copy of the project without build isolation (nothing is downloaded), installed
without its dependencies into a fresh virtualenv that borrows this one's installed packages through a .pth
file, and asked, from outside the checkout, for a page and a leaflet.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What a build never reads: the virtualenv, what git ignores, the tests and benchmarks.
LEFT_OUT = shutil.ignore_patterns(
    ".venv", ".git", "instance", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache",
    "tests", "bench",
)

# Runs in the fresh virtualenv, in an empty folder: only the installed wheel can answer `import coordinator`.
CHECK = """
import json
import os
from datetime import date
from io import BytesIO

import pikepdf
from babel.support import Translations
from pypdf import PdfReader

import config
import coordinator
from coordinator import create_app
from flask_migrate import upgrade
from sqlalchemy import inspect

from coordinator.extensions import db
from coordinator.leaflets.render import LeafletData, LeafletHelpline, render_leaflet_pdf

app = create_app(config.TestConfig)
with app.app_context():
    upgrade()  # `flask db upgrade`, from the revisions inside the wheel
    tables = inspect(db.engine).get_table_names()
    page = app.test_client().get("/account/login")
    leaflet = LeafletData(
        headline="Installed from the wheel",
        printed_on=date(2026, 3, 12),
        reference="WHEE-L001",
        key_messages=("Help is free and confidential.",),
        helplines=(LeafletHelpline("Samaritans", "116 123", is_free=True, is_24_7=True),),
    )
    pdf = render_leaflet_pdf(leaflet, "a5")
# The fixed wording's catalogues, compiled, beside the package (coordinator/translations).
catalogues = os.path.join(os.path.dirname(coordinator.__file__), "translations")
polish = Translations.load(catalogues, ["pl"], domain="messages").gettext("Where to get help")
reader = PdfReader(BytesIO(pdf))
with pikepdf.open(BytesIO(pdf)) as document:
    fonts = {
        str(thing.BaseFont).split("+")[-1]
        for thing in document.objects
        if isinstance(thing, pikepdf.Dictionary) and thing.get("/Type") == "/Font" and "/BaseFont" in thing
    }
print(json.dumps({
    "package": coordinator.__file__,
    "config": config.__file__,
    "status": page.status_code,
    "page": page.get_data(as_text=True),
    "leaflet": " ".join(page_.extract_text() for page_ in reader.pages),
    "fonts": sorted(fonts),
    "tables": tables,
    "polish": polish,
}))
"""


def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    """Run a command, failing the test with its output if it fails."""
    result = subprocess.run(args, check=False, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_a_wheel_installed_outside_the_checkout_renders_a_page_and_a_leaflet(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=LEFT_OUT, symlinks=True)
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--quiet",
        "--wheel-dir", str(tmp_path / "dist"), str(source))
    (wheel,) = (tmp_path / "dist").glob("coordinator-*.whl")

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", str(venv))
    python = venv / "bin" / "python"
    site_packages = Path(run(str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").stdout.strip())
    # The dependencies come from this virtualenv; its editable hook for the checkout is a .pth that is not read.
    (site_packages / "borrowed-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    run(sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "--quiet", str(wheel))

    empty = tmp_path / "elsewhere"
    empty.mkdir()
    environment = {name: value for name, value in os.environ.items() if name not in {"PYTHONPATH", "REDIS_URL"}}
    environment |= {"COORDINATOR_INSTANCE": str(tmp_path / "instance"), "TEST_SQLALCHEMY_URI": f"sqlite:///{tmp_path / 'wheel.sqlite3'}"}
    found = json.loads(run(str(python), "-c", CHECK, cwd=empty, env=environment).stdout.splitlines()[-1])

    assert Path(found["package"]).is_relative_to(site_packages)
    assert Path(found["config"]).is_relative_to(site_packages)
    assert {"users", "login_sessions", "alembic_version"} <= set(found["tables"]), found["tables"]
    assert found["status"] == 200 and "Log in" in found["page"]
    # Fitted type may set the headline over several lines, and numbers keep no-break spaces: read the words.
    leaflet_words = " ".join(found["leaflet"].split())
    assert "Installed from the wheel" in leaflet_words and "116 123" in leaflet_words
    # The bundled Noto Sans, named by its @font-face family: there only when the stylesheets and fonts came along.
    assert "Leaflet-Sans" in found["fonts"], found["fonts"]
    # The draft catalogues travel with the package: a Polish phrase comes out Polish.
    assert "pomocy" in found["polish"], found["polish"]

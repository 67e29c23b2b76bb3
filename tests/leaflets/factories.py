"""The old import path of the leaflet factories, only while the tests move to tests/factories and tests/helpers."""

from tests.factories.leaflets import *
from tests.factories.schemes import make_coordinated_scheme  # noqa: F401
from tests.helpers.pdf import Sentinel, decode_qr, pdftotext, reader, squeeze  # noqa: F401

"""The old import path of the content factories, only while the tests move to tests/factories."""

from tests.factories.content import *

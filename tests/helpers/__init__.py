"""Helpers the tests of several folders import: pages and forms (web), test databases, the browser, PDFs, waiting."""

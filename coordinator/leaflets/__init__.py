"""Leaflets: print-ready PDFs of approved campaigns and helpline sets, for a coordinator's streets.

`layouts` holds the formats and how they go on paper; `render` turns plain leaflet data into a PDF.
"""

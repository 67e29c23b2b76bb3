"""The PDF engine fetches only the app's bundled assets: no local files, no network, no redirects."""

from __future__ import annotations

import logging
from urllib.request import HTTPRedirectHandler

import pytest
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from coordinator.pdf import ASSET_BASE_URL, AssetFetcher, AssetRefused, render_pdf, resolve_asset
from tests.helpers.pdf import reader
from tests.pdf.samples import pdf_everything


def page(body: str, head: str = "") -> str:
    return f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">{head}</head><body><p>Leaflet</p>{body}</body></html>'


def file_vectors(sentinel) -> dict[str, str]:
    """Ways a document can name a local file, each of which would put the sentinel in the PDF if fetched."""
    svg, txt, css = sentinel.svg.as_uri(), sentinel.txt.as_uri(), sentinel.css.as_uri()
    depth = "../" * 12
    return {
        "img file://": page(f'<img src="{svg}" alt="">'),
        "attachment file://": page("", f'<link rel="attachment" href="{txt}">'),
        "css url(file://)": page(f'<div style="width:400px;height:40px;background-image:url({svg})"></div>'),
        "@import file://": page("", f"<style>@import url({css});</style>"),
        "stylesheet link file://": page("", f'<link rel="stylesheet" href="{css}">'),
        "relative path": page(f'<img src="{depth}{str(sentinel.svg).lstrip("/")}" alt="">'),
        "relative attachment": page("", f'<link rel="attachment" href="{depth}{str(sentinel.txt).lstrip("/")}">'),
        "base href file://": page('<img src="sentinel.svg" alt="">', f'<base href="{sentinel.folder.as_uri()}/">'),
        "object data file://": page(f'<object data="{svg}" type="image/svg+xml"></object>'),
        "font-face local file": page(
            "", f"<style>@font-face {{ font-family: X; src: url({txt}); }} p {{ font-family: X; }}</style>"
        ),
        "encoded traversal": page(f'<img src="{ASSET_BASE_URL}print/%2e%2e/%2e%2e/%2e%2e{sentinel.svg}" alt="">'),
    }


def test_the_sentinel_would_leak_through_weasyprints_own_fetcher(sentinel):
    # The control: WeasyPrint's default fetcher does read these, so the checks below can see a leak.
    for name in ("img file://", "attachment file://", "@import file://"):
        pdf = HTML(string=file_vectors(sentinel)[name]).write_pdf()
        assert sentinel.token in pdf_everything(pdf), name


@pytest.mark.parametrize(
    "vector",
    [
        "img file://",
        "attachment file://",
        "css url(file://)",
        "@import file://",
        "stylesheet link file://",
        "relative path",
        "relative attachment",
        "base href file://",
        "object data file://",
        "font-face local file",
        "encoded traversal",
    ],
)
def test_local_files_never_reach_the_pdf(sentinel, vector, caplog):
    with caplog.at_level(logging.WARNING, logger="coordinator.pdf"):
        pdf = render_pdf(file_vectors(sentinel)[vector])
    assert sentinel.token not in pdf_everything(pdf)
    assert not reader(pdf).attachments
    assert "Leaflet" in reader(pdf).pages[0].extract_text()
    assert any("refused to fetch" in message for message in caplog.messages), caplog.messages


def network_vectors(base: str) -> dict[str, str]:
    return {
        "img http": page(f'<img src="{base}/logo.svg" alt="">'),
        "attachment http": page("", f'<link rel="attachment" href="{base}/secret.txt">'),
        "@import http": page("", f"<style>@import url({base}/site.css);</style>"),
        "stylesheet link http": page("", f'<link rel="stylesheet" href="{base}/site.css">'),
        "css url http": page(f'<div style="width:40px;height:40px;background:url({base}/bg.svg)"></div>'),
        "redirect to file": page(f'<img src="{base}/redirect.svg" alt="">'),
        "localhost name": page(f'<img src="{base.replace("127.0.0.1", "localhost")}/logo.svg" alt="">'),
        "https to loopback": page(f'<img src="{base.replace("http:", "https:")}/logo.svg" alt="">'),
    }


def test_the_local_server_would_be_reached_by_weasyprints_own_fetcher(local_server):
    HTML(string=network_vectors(local_server.url)["img http"]).write_pdf()
    assert local_server.requests == ["/logo.svg"]


@pytest.mark.parametrize(
    "vector",
    [
        "img http",
        "attachment http",
        "@import http",
        "stylesheet link http",
        "css url http",
        "redirect to file",
        "localhost name",
        "https to loopback",
    ],
)
def test_no_request_leaves_the_renderer(local_server, sentinel, vector):
    pdf = render_pdf(network_vectors(local_server.url)[vector])
    assert local_server.requests == []
    assert sentinel.token not in pdf_everything(pdf)


@pytest.mark.parametrize(
    "name",
    [
        "FILE",
        "file:///etc/passwd",
        "/etc/passwd",
        "../../../etc/passwd",
        "print/../../config.py",
        "print/%2e%2e/%2e%2e/config.py",
        "http://127.0.0.1:9/x.css",
        "print/missing.css",
        "app.css",
    ],
)
def test_stylesheets_argument_takes_bundled_assets_only(name, sentinel, local_server):
    if name == "FILE":
        name = str(sentinel.css)
    with pytest.raises(AssetRefused):
        render_pdf(page(""), [name.replace("127.0.0.1:9", local_server.url[7:])])
    assert local_server.requests == []


def test_stylesheets_argument_applies_a_bundled_stylesheet():
    plain = render_pdf(page(""), ["print/a5.css"])
    box = reader(plain).pages[0].mediabox
    assert (round(float(box.width), 2), round(float(box.height), 2)) == (419.53, 595.28)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://print-assets.invalid/print/common.css",  # right host, wrong scheme
        "https://print-assets.invalid.example.org/print/common.css",
        "https://user@print-assets.invalid/print/common.css",
        "https://print-assets.invalid:443/print/common.css",
        "https://print-assets.invalid/print/common.css?x=1",
        "https://print-assets.invalid/print/%2e%2e/%2e%2e/config.py",
        "https://print-assets.invalid/print/..%2f..%2fconfig.py",
        "https://print-assets.invalid/print/..\\..\\config.py",
        "https://print-assets.invalid/app.css",
        "https://print-assets.invalid/fonts/OFL-NotoSans.txt",
        "data:text/html,<p>hi</p>",
        "data:text/css,body{}",
        "ftp://127.0.0.1/x.css",
    ],
)
def test_the_fetcher_refuses_anything_but_assets(url):
    with pytest.raises(AssetRefused):
        AssetFetcher().fetch(url)


def test_the_fetcher_serves_bundled_assets_and_image_data():
    fetcher = AssetFetcher()
    css = fetcher.fetch(ASSET_BASE_URL + "print/common.css")
    assert b"@font-face" in css.read()
    assert css.content_type == "text/css"
    font = fetcher.fetch(ASSET_BASE_URL + "fonts/NotoSans-Regular.ttf")
    assert font.read(4) == b"\x00\x01\x00\x00"
    image = fetcher.fetch("data:image/svg+xml;charset=utf-8,%3Csvg%20xmlns%3D%22http%3A//www.w3.org/2000/svg%22/%3E")
    assert image.read().startswith(b"<svg")
    assert resolve_asset(ASSET_BASE_URL + "print/a5.css")[0].name == "a5.css"


def test_the_fetcher_has_no_redirect_handler_and_no_allowed_protocol():
    fetcher = AssetFetcher()
    assert not any(isinstance(handler, HTTPRedirectHandler) for handler in fetcher.handlers)
    with pytest.raises(ValueError, match="disallowed protocol"):
        # The parent's urllib path is closed too, should a WeasyPrint code path ever reach it.
        URLFetcher.fetch(fetcher, "file:///etc/passwd")

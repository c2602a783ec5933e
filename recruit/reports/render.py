"""Turn an already-rendered HTML string into PDF bytes with WeasyPrint, safely.

Documents are built from plain values only, and WeasyPrint may fetch nothing but
``data:`` URLs and files inside the package's own PDF asset directory: a template that
somehow carries ``file:///etc/passwd`` or an outside URL must not read or leak it.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import HTML
from weasyprint.pdf.metadata import DocumentMetadata
from weasyprint.urls import URLFetcher, URLFetcherResponse, path2url

#: Images and fonts a PDF template may reference (logos, signatures).
ASSET_DIR = Path(__file__).resolve().parent.parent / "static" / "pdf"

_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9.+-]*):")


class RestrictedURLFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves ``data:`` URLs and files under one directory."""

    def __init__(self, asset_dir: Path = ASSET_DIR) -> None:
        super().__init__(allowed_protocols=("data", "file"), allow_redirects=False)
        self.asset_dir = Path(asset_dir).resolve()

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        """Return the resource at ``url``, or raise ``ValueError`` when it is not allowed."""
        match = _SCHEME_RE.match(url)
        scheme = match[1].lower() if match else ""
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            return self._fetch_asset(url)
        raise ValueError(f"PDF documents may not fetch {scheme or 'relative'} URLs: {url!r}")

    def _fetch_asset(self, url: str) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"PDF documents may not fetch remote files: {url!r}")
        # resolve() follows symlinks and collapses "..", so the containment check below
        # sees the file that would actually be read.
        path = Path(unquote(parts.path)).resolve()
        if not path.is_relative_to(self.asset_dir):
            raise ValueError(f"PDF documents may only use files in {self.asset_dir}: {url!r}")
        if not path.is_file():
            raise ValueError(f"No such PDF asset: {url!r}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            path2url(path), path.read_bytes(), headers={"Content-Type": content_type}
        )


def render_pdf(
    html: str,
    *,
    title: str,
    author: str | None = None,
    lang: str = "en",
    base_url: str | None = None,
) -> bytes:
    """Render ``html`` to PDF bytes whose metadata holds exactly ``title`` and ``author``.

    Whatever ``<title>`` or ``<meta>`` the HTML carries is discarded, so a pseudonymous
    document's metadata says only what the caller passes (the candidacy code, say).
    Relative URLs resolve against the PDF asset directory unless ``base_url`` is given.
    """
    document = HTML(
        string=html,
        base_url=base_url if base_url is not None else path2url(f"{ASSET_DIR}/"),
        url_fetcher=RestrictedURLFetcher(),
    ).render()
    document.metadata = DocumentMetadata(title=title, authors=[author] if author else [], lang=lang)
    return document.write_pdf()

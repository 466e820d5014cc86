"""HTML -> `LoadedDocument`: the page's main content (Sphinx role="main", <main>, <article>), not the navigation,
sidebars and help text a manual repeats on every page; redirect stubs are skipped; only absolute http(s)
canonical links count as the document's URL (a relative one only when the page's <base href> makes it absolute;
otherwise the file's real path is its only source)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from index.documents import LoadedDocument, iso_date, markdown_sections
from index.errors import LoaderError


def load_html(path: Path, text: str, digest: str) -> LoadedDocument:
    from bs4 import BeautifulSoup, ParserRejectedMarkup

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # bs4 warns when a page looks like a URL or XML; we parse it anyway
            soup = BeautifulSoup(text, "html.parser")
    except ParserRejectedMarkup as err:
        raise LoaderError(path, f"not parseable HTML ({err})") from err
    refresh = soup.find("meta", attrs={"http-equiv": re.compile("^refresh$", re.I)})
    for tag in soup(["script", "style", "noscript", "nav", "footer", "header", "template", "aside"]):
        tag.decompose()
    for tag in soup.find_all(True, attrs={"role": ["navigation", "search", "banner", "contentinfo", "complementary"]}):
        tag.decompose()
    title_tag = soup.find("title")
    canonical = soup.find("link", rel="canonical")
    og_url = soup.find("meta", property="og:url")
    date_meta = soup.find("meta", property="article:published_time") or soup.find("meta", attrs={"name": "date"})
    # The page's main content when it marks it (HTML5 <main>, Sphinx's role="main", <article>): the navigation,
    # sidebars and help text repeated on every page of a manual are not the document.
    body = soup.find("main") or soup.find(True, attrs={"role": "main"}) or soup.find("article") or soup.body or soup
    if refresh is not None and len(body.get_text(" ", strip=True).split()) < 40:
        found = re.search(r"url\s*=\s*(\S+)", str(refresh.get("content") or ""), re.I)
        target = found.group(1).strip("'\"") if found else "another page"
        raise LoaderError(path, f"redirect page (to {target}), no content of its own")
    lines = _html_blocks(body)
    if not lines:  # no block elements: plain text in <body>
        lines = [" ".join(body.get_text(" ", strip=True).split())]
    sections, first_h1 = markdown_sections("\n".join(lines))
    title = (title_tag.get_text(strip=True) if title_tag else "") or first_h1 or path.stem
    url = (canonical.get("href") if canonical else None) or (og_url.get("content") if og_url else None)
    base = soup.find("base", href=True)
    if url and base is not None and re.match(r"^https?://", str(base["href"]), re.I):
        url = urljoin(str(base["href"]), str(url))  # a relative link resolved against the page's own <base>
    if url and not re.match(r"^https?://", str(url), re.I):
        url = None  # a relative link is no citation source: the file's own path stands for it
    date_value = date_meta.get("content") if date_meta else None
    return LoadedDocument(
        path=path,
        title=title,
        sections=sections,
        content_hash=digest,
        url=str(url) if url else None,
        date=iso_date(date_value),
    )


_BLOCKS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "blockquote", "td"})


def _html_blocks(body: Any) -> list[str]:
    """Block elements as Markdown-ish lines (headings as `#`), outermost block only, in document order.
    An explicit stack rather than recursion or find_parent(): linear, and safe on absurdly deep nesting."""
    from bs4 import Tag

    lines: list[str] = []
    stack = list(reversed(list(body.children)))
    while stack:
        el = stack.pop()
        if not isinstance(el, Tag):
            continue
        if el.name in _BLOCKS:
            content = " ".join(el.get_text(" ", strip=True).split())
            if content:
                lines.append(f"{'#' * int(el.name[1])} {content}" if el.name[0] == "h" else content)
                lines.append("")
            continue
        stack.extend(reversed(list(el.children)))
    return lines


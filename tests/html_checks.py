"""Checks on served HTML that any page test can use (client pages now, staff pages later)."""

from __future__ import annotations

from html.parser import HTMLParser


class ActiveContent(HTMLParser):
    """Collect what a CSP without 'unsafe-inline' would block, or what injection would add."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and not attrs.get("src"):
            self.found.append("inline <script>")
        if tag == "script" and attrs.get("src") and not attrs["src"].startswith("/static/"):
            self.found.append(f"foreign script {attrs['src']}")
        if tag == "style":
            self.found.append("<style> block")
        if tag in ("img", "svg", "iframe", "object", "embed"):
            self.found.append(f"<{tag}>")
        for name, value in attrs.items():
            if name == "style":
                self.found.append(f"style attribute on <{tag}>")
            if name.startswith("on"):
                self.found.append(f"{name} handler on <{tag}>")
            if (
                value
                and name in ("href", "src", "action")
                and value.strip().lower().startswith("javascript:")
            ):
                self.found.append(f"javascript: URL on <{tag}>")


def assert_no_active_content(html: str) -> None:
    parser = ActiveContent()
    parser.feed(html)
    assert not parser.found, parser.found

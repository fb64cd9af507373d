"""The static pages' forms before their scripts run."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import proveo

WEB = Path(proveo.__file__).parent / "web"


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str | None]] = []
        self.submits: list[tuple[str | None, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append(attributes)
        elif tag == "button" and attributes.get("type") == "submit":
            self.submits.append((self.forms[-1].get("method") if self.forms else None, attributes))


def test_a_form_cannot_be_sent_before_its_script_runs() -> None:
    """Found in a loaded CI run: a click before the page's module ran submitted the forgotten
    password form natively, as a GET to the page itself; a login form would have put the
    password in the address. Each submit button waits, disabled, for `initPage`."""
    pages = sorted(WEB.rglob("*.html"))
    checked = 0
    for page in pages:
        parser = _Forms()
        parser.feed(page.read_text(encoding="utf-8"))
        for form in parser.forms:
            assert form.get("method") in ("post", "dialog"), (page, form)
        for method, button in parser.submits:
            if method == "dialog":
                continue  # inside a dialog only a script opens
            assert {"disabled", "data-needs-script"} <= button.keys(), (page, button)
            checked += 1
    assert checked >= 6

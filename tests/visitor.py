"""A simulated browser for tests against a live server: its own requests.Session (real
cookies), hidden fields (CSRF token, submit key) read from each page before posting.

`Visitor` is generic (get a form, post it); `Client` walks the wizard. A staff visitor can
subclass `Visitor` the same way (log in through the real form, then open pages).
"""

from __future__ import annotations

import threading
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests
from helpers import form_data


class _HiddenFields(HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "hidden" and attrs.get("name"):
            self.fields.setdefault(attrs["name"], attrs.get("value") or "")


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs of a page (csrf_token, submit_key), by name."""
    parser = _HiddenFields()
    parser.feed(html)
    return parser.fields


class Visitor:
    """One browser: a cookie jar, every response kept for checks (status, body)."""

    def __init__(self, base_url: str, timeout: float = 60):
        self.base_url = base_url
        self.timeout = timeout
        self.http = requests.Session()
        self.responses: list[requests.Response] = []
        self._lock = threading.Lock()

    def url(self, path: str) -> str:
        return urljoin(self.base_url, path)

    def _keep(self, response: requests.Response) -> requests.Response:
        with self._lock:
            self.responses.append(response)
        return response

    def get(self, path: str, **kwargs) -> requests.Response:
        return self._keep(
            self.http.get(self.url(path), allow_redirects=False, timeout=self.timeout, **kwargs)
        )

    def post(
        self, path: str, data, session: requests.Session | None = None, **kwargs
    ) -> requests.Response:
        http = session or self.http
        return self._keep(
            http.post(
                self.url(path), data=data, allow_redirects=False, timeout=self.timeout, **kwargs
            )
        )

    def form(self, path: str) -> tuple[requests.Response, dict[str, str]]:
        """Open a page and read its hidden fields, as a browser rendering the form would."""
        page = self.get(path)
        # 422: a page still showing the errors of its last post (Post/Redirect/Get).
        assert page.status_code in (200, 422), (path, page.status_code)
        return page, hidden_fields(page.text)

    def copy_session(self) -> requests.Session:
        """A second tab, or the same tab before a reply arrived: the same cookies, now."""
        other = requests.Session()
        other.cookies.update(self.http.cookies)
        return other


class Client(Visitor):
    """A client walking the wizard: start, every step, review, submit, done."""

    def __init__(self, base_url: str, qn, timeout: float = 60):
        super().__init__(base_url, timeout)
        self.qn = qn

    def start(self) -> requests.Response:
        _, fields = self.form("/")
        response = self.post("/start", fields)
        assert response.status_code == 302, response.status_code
        return response

    def answer_step(self, section, answers: dict) -> requests.Response:
        _, fields = self.form(f"/step/{section.id}")
        data = {**fields, **form_data(section.step_questions, answers), "nav": "next"}
        return self.post(f"/step/{section.id}", data)

    def walk(self, answers: dict) -> None:
        """Start and save every step; each must be accepted (a redirect onwards)."""
        self.start()
        for section in self.qn.steps:
            response = self.answer_step(section, answers)
            assert response.status_code == 302, (section.id, response.status_code)

    def review_data(self, answers: dict) -> dict:
        _, fields = self.form("/review")
        return {**fields, **form_data(self.qn.review_questions, answers)}

    def submit(self, answers: dict, double: str | None = None) -> list[requests.Response]:
        """Post the review form; `double` posts it twice: "together" (two taps before any
        reply, both with the old cookie) or "late" (the second after the first reply, still
        carrying the old cookie, as a browser retrying the request does)."""
        data = self.review_data(answers)
        if double is None:
            return [self.post("/review", data)]
        old = self.copy_session()
        if double == "late":
            return [self.post("/review", data), self.post("/review", data, session=old)]
        replies: list = [None, None]

        def tap(i, session):
            replies[i] = self.post("/review", data, session=session)

        taps = [
            threading.Thread(target=tap, args=(0, None)),
            threading.Thread(target=tap, args=(1, old)),
        ]
        for t in taps:
            t.start()
        for t in taps:
            t.join()
        return replies

    def done(self) -> requests.Response:
        return self.get("/done")


class Staff(Visitor):
    """A staff member's browser: log in through the real form, open pages, log out.

    Every request goes on a new TCP connection (Connection: close), so that consecutive
    requests can land on different gunicorn workers."""

    def __init__(self, base_url: str, timeout: float = 60):
        super().__init__(base_url, timeout)
        self.http.headers["Connection"] = "close"

    def log_in(self, username: str, password: str) -> requests.Response:
        _, fields = self.form("/staff/login")
        return self.post("/staff/login", {**fields, "username": username, "password": password})

    def log_out(self) -> requests.Response:
        _, fields = self.form("/staff/day")  # every role's page has the log-out form
        return self.post("/staff/logout", fields)

    def copy_session(self) -> requests.Session:
        other = super().copy_session()
        other.headers["Connection"] = "close"
        return other

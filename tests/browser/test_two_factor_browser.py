"""Two-factor sign-in in Chromium (issue 17): a provider sets up an authenticator at the
first login (reading the key shown beside the QR code, as an app would from the code),
keeps the recovery codes, logs out, and logs in again with a password and a code."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from browsing import Server, screenshot
from helpers import PASSWORD

AXE = Axe()


@pytest.fixture(scope="module")
def secure_server(tmp_path_factory):
    """A server as a new instance runs: two-factor sign-in required."""
    s = Server(tmp_path_factory.mktemp("two-factor"), REQUIRE_2FA="true")
    s.flask(
        "users", "create", "dana", "--role", "provider", "--name", "Dana Lee",
        "--password-stdin", input=PASSWORD + "\n",
    )  # fmt: skip
    yield s
    s.stop()


def serious(page) -> list[str]:
    return [
        f"{v['id']}: {v['help']}"
        for v in AXE.run(page).response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def password_step(page, base: str) -> None:
    page.goto(base + "/staff/login")
    page.fill("#username", "dana")
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Log in')")


def test_a_provider_enrols_and_logs_in_with_a_code(secure_server, desktop):
    page, base = desktop, secure_server.url
    password_step(page, base)
    page.wait_for_url("**/staff/login/enrol")
    qr = page.locator("img.qr")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")  # the CSP let it load
    assert qr.get_attribute("src").startswith("data:image/svg+xml")
    assert serious(page) == [], "set-up page"
    screenshot(page, "desktop-two-factor-enrol")
    secret = page.inner_text("#totp-secret").replace(" ", "")
    totp = pyotp.TOTP(secret)
    if 30 - time.time() % 30 < 5:  # too close to the next code: wait for it
        time.sleep(30 - time.time() % 30 + 0.5)
    page.fill("#code", totp.now())
    page.click("button:has-text('Confirm and log in')")
    page.wait_for_selector("text=Your recovery codes")
    codes = re.findall(r"[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}", page.inner_text("main"))
    assert len(codes) == 10
    assert serious(page) == [], "recovery codes page"
    page.click("text=I have kept them: continue")
    page.wait_for_url("**/staff/")
    page.click("button:has-text('Log out')")
    page.wait_for_url("**/staff/login")
    # The next login: password, then the code the app shows next (this one is spent).
    password_step(page, base)
    page.wait_for_url("**/staff/login/code")
    assert serious(page) == [], "code page"
    page.fill("#code", totp.at(time.time() + 30))
    page.click("button:has-text('Log in')")
    page.wait_for_url("**/staff/")
    assert "Dana Lee" in page.inner_text("header")
    screenshot(page, "desktop-two-factor-logged-in")

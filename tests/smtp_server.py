"""A real SMTP server for tests (aiosmtpd on 127.0.0.1, a free port): it keeps every message
it receives, parsed, for the test to read."""

from __future__ import annotations

import email
import socket
import threading
import time
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Received:
    """One message as the server got it: envelope recipients and the parsed email."""

    def __init__(self, envelope):
        self.recipients = list(envelope.rcpt_tos)
        self.sender = envelope.mail_from
        self.message: EmailMessage = email.message_from_bytes(envelope.content, policy=default)

    @property
    def subject(self) -> str:
        return self.message["Subject"]

    @property
    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(("html",)).get_content()

    @property
    def everything(self) -> str:
        """Headers and both bodies, for checks that something appears nowhere."""
        headers = "\n".join(f"{k}: {v}" for k, v in self.message.items())
        return f"{headers}\n{self.text}\n{self.html}"


class SmtpServer:
    """aiosmtpd's Controller with a handler that keeps messages; `login` requires AUTH."""

    def __init__(self, login: tuple[str, str] | None = None):
        self.messages: list[Received] = []
        self.logins: list[str] = []
        self.refuse: set[str] = set()  # addresses answered with 550
        self._changed = threading.Condition()
        self.port = free_port()
        kwargs = {}
        if login:
            kwargs = {
                "authenticator": self._authenticator(login),
                "auth_require_tls": False,
                "auth_required": False,  # True warns without TLS; the login is checked anyway
            }
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **kwargs)
        self.url = f"smtp://127.0.0.1:{self.port}"

    def _authenticator(self, login):
        def check(server, session, envelope, mechanism, auth_data):
            user = auth_data.login.decode()
            ok = (user, auth_data.password.decode()) == login
            if ok:
                self.logins.append(user)
            return AuthResult(success=ok)

        return check

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self._changed:
            self.messages.append(Received(envelope))
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        """Wait until `count` messages have arrived (the worker thread sends on its own)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
            return list(self.messages)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

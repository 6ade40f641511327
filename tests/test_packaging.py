"""A regular install works away from the repository: `pip install` of the built wheel into a
fresh virtual environment carries the templates, static files, questionnaire.yaml and
rules.yaml (setup.py copies the top-level ones into screening/_bundled), and the rules CLI
and the served start page work from another directory.

The slow one (15 s with a warm pip cache: a wheel build, a venv, the dependencies) is
marked `packaging`; `make test` runs it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from flask import Config

from screening import config

REPO = Path(__file__).resolve().parent.parent
# Not needed for a build, or private (instance/ holds the SECRET_KEY): left out of the copy.
NOT_BUILT = (".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache")
NOT_BUILT += (".hypothesis", "instance", "tests", "bench", "docs")


def run(command: list, cwd: Path, env: dict | None = None, timeout: float = 300) -> str:
    done = subprocess.run(
        [str(part) for part in command],
        check=False,  # a failure is reported with its output below
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stdout}{done.stderr}"
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            body = response.read().decode()
            return response.status, response.headers.get("Content-Type", ""), body
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read().decode()


@pytest.mark.packaging
def test_a_regular_install_works_from_another_directory(tmp_path):
    # A copy of the project, so the build leaves nothing (build/, *.egg-info) in the repository.
    source = tmp_path / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*NOT_BUILT))
    run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", tmp_path / "wheels", source],
        tmp_path,
    )
    (wheel,) = (tmp_path / "wheels").glob("screening-*.whl")

    # A fresh venv (no system site-packages), filled by this venv's pip: no ensurepip step.
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], tmp_path)
    python, bin_dir = venv / "bin" / "python", venv / "bin"
    run([sys.executable, "-m", "pip", "--python", python, "install", "-q", wheel], tmp_path)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SCREENING_", "FLASK_", "PYTHON", "VIRTUAL_ENV"))
    }
    env.update(
        {
            "PATH": os.pathsep.join([str(bin_dir), env.get("PATH", "")]),
            "SCREENING_DATABASE": str(tmp_path / "data" / "screening.db"),
        }
    )

    # The installed package, not the repository, and its content files are the bundled copies.
    where = run(
        [python, "-c", "import screening.config as c; print(c.__file__); print(c.CONTENT_ROOT)"],
        elsewhere,
        env,
    ).split()
    package = Path(where[0]).parent
    assert package.is_relative_to(venv) and not package.is_relative_to(REPO), where
    assert Path(where[1]) == package / "_bundled", where
    for name in ("questionnaire.yaml", "rules.yaml", "templates/client/start.html"):
        assert (package / "_bundled" / name).is_file(), name
    assert (package / "static" / "css" / "app.css").is_file()

    # A clinic checks its rules on a laptop before it ever serves the app: no SECRET_KEY.
    checked = run([bin_dir / "flask", "--app", "screening", "rules", "check"], elsewhere, env)
    assert re.match(r"\d+ rules OK", checked), checked
    refused = subprocess.run(
        [bin_dir / "flask", "--app", "screening", "init-db"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode != 0 and "no SECRET_KEY" in refused.stderr, refused.stderr
    env["SCREENING_SECRET_KEY"] = "packaging-test-secret"
    run([bin_dir / "flask", "--app", "screening", "init-db"], elsewhere, env)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [bin_dir / "gunicorn", "-c", "python:screening.gunicorn_conf", "--no-control-socket"]
            + ["--workers", "1", "--bind", f"127.0.0.1:{port}", "screening:create_app()"],
            cwd=elsewhere,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the kill below reaches workers
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, f"gunicorn exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"gunicorn did not answer:\n{log.read_text()}"
            try:
                status, _, page = get(url + "/")
                break
            except OSError:
                time.sleep(0.1)
        assert status == 200, page
        assert "Start the questionnaire" in page
        stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', page)
        assert stylesheet, page
        status, content_type, css = get(url + stylesheet.group(1))
        assert status == 200 and content_type.startswith("text/css"), (status, content_type)
        assert css == (package / "static" / "css" / "app.css").read_text()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_screening_questionnaire_and_rules_win_over_the_older_path_settings(monkeypatch):
    """SCREENING_QUESTIONNAIRE and SCREENING_RULES set QUESTIONNAIRE_PATH and RULES_PATH too,
    which other code reads; unset, the *_PATH settings (or their defaults) hold."""
    for name in list(os.environ):
        if name.startswith("SCREENING_"):
            monkeypatch.delenv(name)
    settings = Config(REPO)
    settings.from_mapping(config.defaults("/nowhere"))
    settings.from_mapping({"RULES_PATH": "/instance/rules.yaml"})  # as instance/config.py could
    monkeypatch.setenv("SCREENING_QUESTIONNAIRE", "/etc/clinic/questionnaire.yaml")
    settings.from_prefixed_env("SCREENING")
    config.resolve_paths(settings)
    assert settings["QUESTIONNAIRE"] == settings["QUESTIONNAIRE_PATH"]
    assert settings["QUESTIONNAIRE_PATH"] == "/etc/clinic/questionnaire.yaml"
    assert settings["RULES"] == settings["RULES_PATH"] == "/instance/rules.yaml"

    monkeypatch.setenv("SCREENING_RULES", "rules-2.yaml")
    settings.from_prefixed_env("SCREENING")
    config.resolve_paths(settings)
    assert settings["RULES"] == settings["RULES_PATH"] == "rules-2.yaml"


def test_a_checkout_uses_the_repository_files():
    assert config.content_root() == config.CONTENT_ROOT == REPO
    assert config.TEMPLATES == REPO / "templates"
    defaults = config.defaults("/nowhere")
    assert defaults["QUESTIONNAIRE_PATH"] == str(REPO / "questionnaire.yaml")
    assert defaults["RULES_PATH"] == str(REPO / "rules.yaml")

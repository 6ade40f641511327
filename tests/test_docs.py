"""What the documents promise matches the repository: links lead to files that exist, and
the backup document says when its snapshot is taken."""

from __future__ import annotations

import re

import pytest

from screening.config import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_relative_link_leads_to_a_file(doc):
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text()):
        if "://" in target or target.startswith("mailto:"):
            continue
        assert (doc.parent / target).exists(), (doc.name, target)


def test_the_backup_document_says_when_the_snapshot_is_taken():
    """The copy is the database as it was when the copy began (after the command loaded
    the app), not when the command started (store/backup.py pins it in _copy)."""
    text = " ".join((ROOT / "docs" / "backup.md").read_text().split())
    assert "when the command started" not in text
    assert "exactly as it was when the copy began" in text


def test_the_readme_says_how_to_choose_host_and_port_and_how_long_the_tests_take():
    text = " ".join((ROOT / "README.md").read_text().split())
    assert "make run PORT=8080" in text and "make run HOST=192.168.1.20" in text
    assert "How long `make test` takes" in text

"""docs/threat-model.md stays true: every test it cites exists, every claim cites one.

A reference is written `tests/path/file.py::name`: the file must exist and
define a top-level function or class of that name (read with ``ast``, so no
test module is imported). Each adversary section must cite at least one
test, and every bullet in an adversary section and every row of the
properties table must end with at least one reference.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "threat-model.md"
REFERENCE = re.compile(r"`(tests/[\w/.-]+\.py)::(\w+)`")
#: the adversaries the issue names, in the document's order
ADVERSARIES = (
    "A1. A curious or compromised server",
    "A2. A network observer",
    "A3. A malicious uploader with a valid TAN",
    "A4. A scraper who photographs QR codes",
    "A5. A malicious venue owner",
    "A6. A thief of a phone",
    "A7. A colluding authority and venue owner",
)


def text() -> str:
    return DOC.read_text(encoding="utf-8")


def sections(level: str) -> dict[str, str]:
    """Heading text -> the body up to the next heading of the same or a higher level."""
    depth = len(level)
    out: dict[str, str] = {}
    current: str | None = None
    for line in text().splitlines():
        heading = re.match(r"(#+) (.*)", line)
        if heading and len(heading.group(1)) <= depth:
            current = heading.group(2).strip() if len(heading.group(1)) == depth else None
            if current is not None:
                out[current] = ""
            continue
        if current is not None:
            out[current] += line + "\n"
    return out


def items(body: str) -> list[str]:
    """Bullets of a section, each with its indented continuation lines joined."""
    bullets: list[str] = []
    for line in body.splitlines():
        if line.startswith("- "):
            bullets.append(line[2:].strip())
        elif line.startswith("  ") and line.strip() and bullets:
            bullets[-1] += " " + line.strip()
    return bullets


@functools.cache
def defined(path: str) -> frozenset[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"), filename=path)
    return frozenset(
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    )


def references() -> list[tuple[str, str]]:
    return REFERENCE.findall(text())


def test_the_document_cites_tests() -> None:
    assert len(set(references())) >= 40


@pytest.mark.parametrize(("path", "name"), sorted(set(references())))
def test_every_cited_test_exists(path: str, name: str) -> None:
    assert (ROOT / path).is_file(), f"{path} does not exist"
    assert name in defined(path), f"{path} defines no top-level {name}"
    assert name.startswith(("test_", "Test")) or name[0].isupper(), f"{name} is not a test"


def test_every_adversary_has_a_section_citing_tests() -> None:
    found = sections("###")
    for adversary in ADVERSARIES:
        assert adversary in found, f"no section '### {adversary}'"
        assert REFERENCE.search(found[adversary]), f"'{adversary}' cites no test"


@pytest.mark.parametrize("adversary", ADVERSARIES)
def test_every_claim_in_an_adversary_section_ends_with_a_test(adversary: str) -> None:
    bullets = items(sections("###")[adversary])
    assert bullets, f"'{adversary}' has no claims"
    for bullet in bullets:
        assert re.search(REFERENCE.pattern + r"\s*$", bullet), f"no test cited: {bullet[:80]}"


def test_every_row_of_the_properties_table_cites_a_test() -> None:
    body = sections("##")["Properties against the anchors"]
    rows = [line for line in body.splitlines() if line.startswith("|")][2:]
    assert len(rows) >= 8
    for row in rows:
        first = row.split("|")[1]
        assert REFERENCE.search(first), f"no test cited: {first[:80]}"


def test_residual_risks_are_stated() -> None:
    body = sections("##")["Residual risks"]
    risks = items(body)
    assert len(risks) >= 10
    for topic in (
        "upload timing",
        "entry lengths",
        "row order",
        "rate limit on consent",
        "revocation works per tag",
        "message id",
        "midnight",
        "poster photo",
    ):
        assert topic in body.lower(), f"no residual risk about {topic}"

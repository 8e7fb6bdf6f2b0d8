"""The README's quick start, followed as a newcomer would: every command in order,
in one shell's environment, against a real service, producing what it shows.

Tokens, TANs, key ids, dates, times and sizes differ from run to run: they are
compared by shape. The README's token and TAN are replaced by the ones this run
issued, its dates by yesterday's, its folder and ports by free ones.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from placecode.clients.demo import free_port

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
#: the section that is one story, from its heading to the next section of its level
SECTION = re.compile(r"^## Quick start by role\n(.*?)^## ", re.S | re.M)
CONSOLE = re.compile(r"^```console\n(.*?)^```", re.S | re.M)
#: printed after each command, on a line of its own: then the folder and the environment
STATE = "__README_STATE__"
#: the shell variable that keeps the command's exit status
RC = "__README_RC"

TAN = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")
#: a staff token (URL-safe base64, which may begin or end with "-" or "_")
TOKEN = re.compile(r"(?<![\w-])[\w-]{40,}(?![\w-])", re.ASCII)
#: what varies from run to run, masked in order (the longest first)
VARIES = [
    (TOKEN, "<token>"),
    (TAN, "<tan>"),
    (re.compile(r"\b[0-9a-f]{16,}\b"), "<hex>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}"), "<date>"),
    (re.compile(r"\d[\d,:]*"), "<n>"),
]


def steps(text: str) -> list[tuple[str, list[str]]]:
    """(command, the output the README shows for it), in order."""
    section = SECTION.search(text)
    assert section, "README.md has no quick start section"
    out: list[tuple[str, list[str]]] = []
    for block in CONSOLE.findall(section.group(1)):
        for line in block.splitlines():
            if line.startswith("$ "):
                out.append((line[2:], []))
            else:
                assert out, f"output before any command: {line!r}"
                out[-1][1].append(line)
    return out


def shape(line: str) -> str:
    for pattern, mask in VARIES:
        line = pattern.sub(mask, line)
    return line.rstrip()


def _wait_for(url: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_the_quick_start_works_when_followed_in_order(tmp_path: Path) -> None:
    story = steps(README.read_text(encoding="utf-8"))
    assert len(story) > 15
    work, port = tmp_path / "qs", free_port()
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")
    written = re.search(r"--at (\d{4}-\d{2}-\d{2})T", README.read_text(encoding="utf-8"))
    assert written
    swap = {"/tmp/qs": str(work), "8000": str(port), written.group(1): yesterday}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLACECODE_", "DATABASE_URL"))}
    env.update(TZ="UTC", PLACECODE_DUMMY_PROBABILITY="0", HOME=str(tmp_path))
    cwd = ROOT
    background: list[subprocess.Popen[bytes]] = []
    try:
        for command, shown in story:
            for old, new in swap.items():
                command = command.replace(old, new)
            if command.split(" #")[0].rstrip().endswith("&"):
                # its own process group: the service outlives the shell that started it
                background.append(
                    subprocess.Popen(
                        ["bash", "-c", command], cwd=cwd, env=env, start_new_session=True
                    )
                )
                _wait_for(f"http://127.0.0.1:{port}/v1/config")
                continue
            done = subprocess.run(
                ["bash", "-c", f"{command}\nexport {RC}=$?\necho\necho {STATE}\npwd\nenv -0"],
                cwd=cwd,
                env=env,
                capture_output=True,
                timeout=120,
            )
            stdout = done.stdout.decode()
            output, _, state = stdout.partition(f"\n{STATE}\n")
            where, _, variables = state.partition("\n")
            env = dict(v.split("=", 1) for v in variables.split("\0") if "=" in v)
            assert env.pop(RC, "") == "0", f"$ {command}\n{stdout}{done.stderr.decode()}"
            cwd = Path(where)
            printed = output.replace(str(work), "/tmp/qs").replace(str(port), "8000")
            lines = printed.rstrip("\n").splitlines() if printed.strip() else []
            assert [shape(x) for x in lines] == [shape(x) for x in shown], (
                f"$ {command}\nthe README shows:\n" + "\n".join(shown) + "\nit printed:\n" + printed
            )
            for old, new in zip(shown, lines, strict=True):
                for pattern in (TOKEN, TAN):
                    for a, b in zip(pattern.findall(old), pattern.findall(new), strict=True):
                        swap[a] = b
    finally:
        for process in background:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)

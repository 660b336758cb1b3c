"""Helpers of the hint tests: read a hint from a command's output and run the command it names."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

from dvxtest import git, run_dvx


def hint(cp: subprocess.CompletedProcess[str]) -> str:
    """The hint of the single error line on stderr."""
    lines = [ln for ln in cp.stderr.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1, cp.stderr
    m = re.search(r"\(hint: (.*)\)$", lines[0])
    assert m, lines[0]
    return m.group(1)


def commands(cp: subprocess.CompletedProcess[str]) -> list[str]:
    """The commands the hint names, in order (the text between backticks)."""
    return re.findall(r"`([^`]+)`", hint(cp))


def follow(cwd: Path, command: str, **fill: str) -> subprocess.CompletedProcess[str]:
    """Run a hinted command in ``cwd``, placeholders (NAME, URL, VALUE) replaced by ``fill``."""
    argv = [fill.get(a, a) for a in shlex.split(command)]
    if argv[0] == "dvx":
        return run_dvx(cwd, *argv[1:])
    assert argv[0] == "git", command
    return git(cwd, *argv[1:])


def tracked(repo: Path, name: str = "data.csv", body: bytes = b"id,x\n1,2\n2,3\n") -> Path:
    (repo / name).write_bytes(body)
    run_dvx(repo, "add", name)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", f"track {name}", "--no-verify")
    return repo / name


def remote_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def printed_hint(cp: subprocess.CompletedProcess[str]) -> str:
    """The shell line of a ``hint:`` a successful command printed on stdout."""
    lines = [ln[len("hint: "):] for ln in cp.stdout.splitlines() if ln.startswith("hint: ")]
    assert len(lines) == 1, cp.stdout
    return lines[0]

"""Bad input exits 2 with ``file:line`` (issue 10, defect 6): pointer values that int()/isdigit
accepted, non-UTF-8 and wrongly typed config, malformed suites, and the commands that read a
broken pointer (status, diff, log, check). Every hint's command is run and shown to fix the state."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from dvxtest import env, git, run_dvx


def _one_line_error(cp: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in cp.stderr, cp.stderr
    lines = cp.stderr.strip().splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), cp.stderr
    return lines[-1]


def _tracked(repo: Path, commit: bool = True) -> Path:
    (repo / "a.bin").write_bytes(b"abc" * 1000)
    run_dvx(repo, "add", "a.bin")
    if commit:
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "v1")
    return repo / "a.bin.dvx"


def _set(pointer: Path, key: str, value: str) -> int:
    """Replace ``key``'s value; return its line number."""
    lines = pointer.read_text(encoding="utf-8").split("\n")
    n = next(i for i, line in enumerate(lines) if line.startswith(f"{key}:"))
    lines[n] = f"{key}: {value}"
    pointer.write_text("\n".join(lines), encoding="utf-8")
    return n + 1


# Accepted before by int(x, 16), bytes.fromhex, str.isdigit or int().
_BAD_VALUES = [
    ("id", "0x" + "0" * 30),
    ("id", "0" * 4 + "_" + "0" * 27),
    ("id", "+" + "0" * 31),
    ("id", "\u0666" + "0" * 31),  # ARABIC-INDIC DIGIT SIX
    ("id", "0" * 16 + " " + "0" * 15),
    ("size", "\u00b2"),  # SUPERSCRIPT TWO: isdigit() is True, int() fails
    ("size", "1_000"),
    ("size", "-1"),
    ("files", "+1"),
    ("chunks", "\uff11"),  # FULLWIDTH DIGIT ONE: int() accepts it
    ("size", "9" * 20),
]


def test_pointer_values_only_ascii(repo: Path) -> None:
    pointer = _tracked(repo, commit=False)
    good = pointer.read_text()
    for key, value in _BAD_VALUES:
        pointer.write_text(good)
        line = _set(pointer, key, value)
        cp = run_dvx(repo, "checkout", check=False)
        assert cp.returncode == 2, (key, value, cp.stderr)
        err = _one_line_error(cp)
        assert f"a.bin.dvx:{line}: '{key}' must be" in err, err


def test_broken_pointer_hint_commands_fix_it(repo: Path) -> None:
    pointer = _tracked(repo)
    good = pointer.read_text()
    _set(pointer, "size", "\u00b2")
    cp = run_dvx(repo, "status", check=False)
    assert cp.returncode == 2
    err = _one_line_error(cp)
    assert "`dvx add a.bin`" in err and "`git checkout -- a.bin.dvx`" in err
    # First hint: `dvx add` rewrites the broken pointer from the data.
    run_dvx(repo, "add", "a.bin")
    assert pointer.read_text() == good
    assert "all unchanged" in run_dvx(repo, "status").stdout
    # Second hint: git restores the committed pointer.
    _set(pointer, "id", "0x" + "0" * 30)
    assert run_dvx(repo, "status", check=False).returncode == 2
    git(repo, "checkout", "--", "a.bin.dvx")
    assert pointer.read_text() == good
    assert "all unchanged" in run_dvx(repo, "status").stdout


def test_commands_exit_2_on_a_broken_pointer(repo: Path) -> None:
    pointer = _tracked(repo)
    (repo / "a.bin").write_bytes(b"xyz" * 1000)
    run_dvx(repo, "add", "a.bin")
    line = _set(pointer, "size", "lots")
    where = f"a.bin.dvx:{line}: 'size' must be a non-negative integer"
    for args in (("status",), ("status", "--json"), ("diff",), ("diff", "--json"), ("check",)):
        cp = run_dvx(repo, *args, check=False)
        assert cp.returncode == 2, (args, cp.stdout, cp.stderr)
        assert where in _one_line_error(cp), args
    # The answer printed before the error is still there.
    assert json.loads(run_dvx(repo, "diff", "--json", check=False).stdout)["datasets"][0]["path"] == "a.bin"
    # Committed broken: log and diff between revisions name the commit.
    git(repo, "commit", "--no-verify", "-qam", "broken")
    sha = git(repo, "rev-parse", "HEAD").stdout.strip()
    for args in (("log", "a.bin"), ("diff", "HEAD~1", "HEAD")):
        cp = run_dvx(repo, *args, check=False)
        assert cp.returncode == 2, (args, cp.stderr)
        err = _one_line_error(cp)
        assert where in err and (sha[:12] in err or "HEAD:" in err), err
    assert "broken" in run_dvx(repo, "log", "a.bin", check=False).stdout  # the table is printed


@pytest.mark.parametrize("name", ["config", "config.local"])
def test_non_utf8_config(repo: Path, name: str) -> None:
    path = repo / ".dvx" / name
    text = path.read_bytes() if path.exists() else b""
    path.write_bytes(text + b"\n# caf\xe9\n")
    line = (text + b"\n").count(b"\n") + 1
    (repo / "a.bin").write_bytes(b"abc")
    for args in (("add", "a.bin"), ("remote", "list")):
        cp = run_dvx(repo, *args, check=False)
        assert cp.returncode == 2
        assert f".dvx/{name}:{line}: is not UTF-8 text" in _one_line_error(cp)


def test_non_utf8_and_malformed_expectations_toml(repo: Path) -> None:
    _tracked(repo)
    toml = repo / "expectations" / "dvx.toml"
    toml.parent.mkdir(exist_ok=True)
    for raw, what in ((b'[drift]\npsi = 0.2\n# \xff\n', "dvx.toml:3: is not UTF-8 text"),
                      (b"[drift]\npsi = [[[[\n", "dvx.toml:2: invalid TOML"),
                      (b"x = " + b"[" * 5000 + b"\n", "dvx.toml: invalid TOML: arrays or tables nested too deeply"),
                      (b"[drift]\npsi = " + b"9" * 5000 + b"\n", "dvx.toml: invalid TOML: an integer has too many digits")):
        toml.write_bytes(raw)
        for args in (("check",), ("validate",), ("diff",)):
            cp = run_dvx(repo, *args, check=False)
            assert cp.returncode == 2, (args, raw[:20], cp.stderr)
            assert what in _one_line_error(cp), (args, cp.stderr)


_R = '[core]\nremote = "r"\n[remote.r]\nurl = "../remote"\n'


@pytest.mark.parametrize(
    ("name", "text", "expect"),
    [
        ("config", None, ":13: [cache] fsync must be true or false, got 'yes'"),
        ("config.local", 'core = "x"\n', "config.local:1: core must be a table"),
        ("config.local", "[core]\nautostage = 1\n", "config.local:2: [core] autostage must be true or false"),
        ("config.local", "[cache]\ncompression = 5\n", "config.local:2: [cache] compression must be a string"),
        ("config.local", '[cache]\ncompression = "lz4"\n', "config.local:2: [cache] compression must be one of 'none', 'zstd'"),
        ("config.local", '[chunking]\nmin_size = "16k"\n', "config.local:2: [chunking] min_size must be an integer"),
        ("config.local", "[chunking]\navg_size = 65536.0\n", "config.local:2: [chunking] avg_size must be an integer"),
        ("config.local", 'remote = "s3://x"\n', "config.local:1: remote must be a table of remotes"),
        ("config.local", '[remote]\nr = "s3://x"\n', "config.local:2: [remote] r must be a table"),
        ("config.local", '[core]\nremote = 5\n', "config.local:2: [core] remote must be a string"),
    ],
)
def test_config_wrong_types(repo: Path, name: str, text: str | None, expect: str) -> None:
    path = repo / ".dvx" / name
    if text is None:  # edit the committed file in place
        path.write_text(path.read_text().replace("fsync = true", 'fsync = "yes"'))
    else:
        path.write_text(text)
    (repo / "a.bin").write_bytes(b"abc")
    for args in (("add", "a.bin"), ("remote", "list")):
        cp = run_dvx(repo, *args, check=False)
        assert cp.returncode == 2, (args, cp.stderr)
        assert expect in _one_line_error(cp), cp.stderr


@pytest.mark.parametrize("local", [False, True])
def test_remote_option_hint_fixes_it(repo: Path, tmp_path: Path, local: bool) -> None:
    _tracked(repo)
    name = "config.local" if local else "config"
    path = repo / ".dvx" / name
    section = f'[remote.r]\nurl = "{tmp_path / "remote"}"\njobs = "many"\n'
    path.write_text(section if local else path.read_text() + "\n" + section)
    for args in (("push", "-r", "r"), ("remote", "list")):
        cp = run_dvx(repo, *args, check=False)
        assert cp.returncode == 2
        err = _one_line_error(cp)
        assert f".dvx/{name}:" in err and "remote 'r': jobs must be a positive integer, got 'many'" in err
    hint = f"`dvx remote modify {'--local ' if local else ''}r jobs VALUE`"
    assert hint in err
    run_dvx(repo, "remote", "modify", *(["--local"] if local else []), "r", "jobs", "4")
    run_dvx(repo, "push", "-r", "r")
    assert any((tmp_path / "remote" / "index").iterdir())


def test_bad_environment_override(repo: Path) -> None:
    (repo / "a.bin").write_bytes(b"abc")
    for var, value in (("DVX_CACHE_FSYNC", "maybe"), ("DVX_CHUNKING_MIN_SIZE", "16k"), ("DVX_CACHE_COMPRESSION", "lz4")):
        cp = run_dvx(repo, "add", "a.bin", check=False, env={**env(), var: value})
        assert cp.returncode == 2, (var, cp.stderr)
        assert f"environment variable {var} must be" in _one_line_error(cp)


def test_remote_modify_unset(repo: Path, tmp_path: Path) -> None:
    run_dvx(repo, "remote", "add", "-d", "r", str(tmp_path / "remote"))
    run_dvx(repo, "remote", "modify", "r", "jobs", "3")
    assert "jobs = 3" in (repo / ".dvx" / "config").read_text()
    run_dvx(repo, "remote", "modify", "--unset", "r", "jobs")
    assert "jobs" not in (repo / ".dvx" / "config").read_text()
    cp = run_dvx(repo, "remote", "modify", "--unset", "r", "url", check=False)
    assert cp.returncode == 2 and "needs a url" in _one_line_error(cp)


def _yaml_bomb() -> str:
    lines = ["columns: {}", "a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("name", "raw", "expect"),
    [
        ("s.json", b"[" * 100_000, "s.json: not valid JSON: nested too deeply"),
        ("s.json", b'{"expectations": [], "n": ' + b"1" * 5000 + b"}", "s.json: not valid JSON"),
        ("s.json", b'{"expectations": [], "name": "caf\xe9"}', "s.json:1: is not UTF-8 text"),
        ("s.json", b'{"expectations": [{"type": "expect_column_to_exist",\n "kwargs": [1]}]}', "s.json: expectation 1 (expect_column_to_exist): 'kwargs' must be an object"),
        ("s.yaml", b"[" * 100_000, "s.yaml: not valid YAML: nested too deeply"),
        ("s.yaml", _yaml_bomb().encode(), "s.yaml: has more than 1,000,000 values"),
        ("s.yaml", b"columns: {1: a, b: c}\n", "s.yaml: cannot be written as canonical JSON"),
        ("s.yaml", b"columns: 2020-13-45\n", "s.yaml: not valid YAML"),
    ],
)
def test_malformed_suites(repo: Path, name: str, raw: bytes, expect: str) -> None:
    (repo / "t.csv").write_text("a,b\n1,2\n")
    run_dvx(repo, "add", "t.csv")
    exp = repo / "expectations"
    exp.mkdir(exist_ok=True)
    (exp / "dvx.toml").write_text(f'[[bind]]\npath = "t.csv"\nsuites = ["{name}"]\n')
    (exp / name).write_bytes(raw)
    for args in (("validate",), ("check",)):
        cp = run_dvx(repo, *args, check=False)
        assert cp.returncode == 2, (args, cp.stdout, cp.stderr)
        assert expect in _one_line_error(cp), cp.stderr

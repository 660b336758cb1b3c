"""`dvx config` and `dvx remote` through the CLI in real repositories: what people wrote in the
config files stays (comments, order), the layers and their origins, the user file found through
DVX_GLOBAL_CONFIG_DIR, secrets masked, DVX_REMOTE_<NAME>_<KEY> reaching a real push, and hostile
values stopping every command with one line, exit 2."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from dvxtest import env, make_dvx_repo, run_dvx

_TOP = "# team settings: ask #data before changing\n"
_IN_CORE = "# autostage: stage pointer files after dvx add\n"
_TAIL = "\n# remotes go below\n"


def _subsequence(small: list[str], big: list[str]) -> bool:
    it = iter(big)
    return all(any(line == b for b in it) for line in small)


@pytest.fixture(scope="module")
def configured(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str], str]:
    """A repository whose commented .dvx/config went through dvx config and dvx remote."""
    root = tmp_path_factory.mktemp("config")
    repo = make_dvx_repo(root / "repo")
    user = root / "user"
    e = env()
    e["DVX_GLOBAL_CONFIG_DIR"] = str(user)
    cfg = repo / ".dvx" / "config"
    text = _TOP + cfg.read_text().replace("[core]\n", "[core]\n" + _IN_CORE) + _TAIL
    cfg.write_text(text)
    for args in (
        ("remote", "add", "-d", "origin", str(root / "store")),
        ("remote", "modify", "origin", "jobs", "3"),
        ("remote", "modify", "origin", "region", "eu-west-1"),
        ("remote", "modify", "origin", "jobs", "--unset"),
        ("remote", "modify", "--local", "origin", "secret_access_key", "hunter2"),
        ("config", "core.autostage", "true"),
        ("config", "--global", "hooks.fetch", "true"),
    ):
        run_dvx(repo, *args, env=e)
    return repo, user, e, text


def test_edits_keep_what_people_wrote(configured: tuple[Path, Path, dict[str, str], str]) -> None:
    repo, _user, _e, before = configured
    after = (repo / ".dvx" / "config").read_text()
    kept = [ln for ln in before.splitlines() if ln.strip() and ln != "autostage = false"]
    assert _subsequence(kept, after.splitlines()), after
    assert after.startswith(_TOP + "[core]\n" + _IN_CORE + "format = 1\nautostage = true\nremote = \"origin\"\n")
    data = tomllib.loads(after)
    assert data["remote"]["origin"] == {"url": str(repo.parent / "store"), "region": "eu-west-1"}  # jobs unset
    assert data["core"]["remote"] == "origin"
    assert "hunter2" not in after and "hunter2" in (repo / ".dvx" / "config.local").read_text()


def test_list_show_origin_and_masked_secrets(configured: tuple[Path, Path, dict[str, str], str]) -> None:
    repo, user, e, _ = configured
    e = dict(e, DVX_REMOTE_ORIGIN_ENDPOINTURL="http://127.0.0.1:9")
    out = run_dvx(repo, "config", "--list", "--show-origin", env=e).stdout.splitlines()
    assert f"{user / 'config'}\thooks.fetch=true" in out
    assert f"{repo / '.dvx' / 'config'}\tcore.autostage=true" in out
    assert f"{repo / '.dvx' / 'config.local'}\tremote.origin.secret_access_key=***" in out
    assert "environment variable DVX_REMOTE_ORIGIN_ENDPOINTURL\tremote.origin.endpoint_url=http://127.0.0.1:9" in out
    # the layers in order: user file first, then the project file, the local file, the environment
    scopes = [ln.split("\t")[0] for ln in out]
    assert scopes.index(str(user / "config")) < scopes.index(str(repo / ".dvx" / "config")) < \
        scopes.index(str(repo / ".dvx" / "config.local"))
    listed = json.loads(run_dvx(repo, "remote", "list", "--json", env=e).stdout)
    assert listed[0]["options"] == {"region": "eu-west-1", "secret_access_key": "***", "endpoint_url": "http://127.0.0.1:9"}
    assert "hunter2" not in run_dvx(repo, "config", "--list", "--json", env=e).stdout
    # one key asked for by name shows its value, as git config does; -q prints nothing
    assert run_dvx(repo, "config", "remote.origin.secret_access_key", env=e).stdout == "hunter2\n"
    assert run_dvx(repo, "config", "-q", "core.autostage", env=e).stdout == ""


def test_get_answers_the_winning_layer(configured: tuple[Path, Path, dict[str, str], str]) -> None:
    repo, user, e, _ = configured
    got = json.loads(run_dvx(repo, "config", "hooks.fetch", "--json", env=e).stdout)["entries"][0]
    assert got == {"key": "hooks.fetch", "value": True, "scope": "global", "origin": str(user / "config")}
    assert run_dvx(repo, "config", "hooks.fetch", env=dict(e, DVX_HOOKS_FETCH="0")).stdout == "false\n"
    assert run_dvx(repo, "config", "--project", "hooks.fetch", env=e, check=False).returncode == 1
    # outside any repository the user file is still there
    assert run_dvx(user.parent, "config", "--global", "hooks.fetch", env=e).stdout == "true\n"
    cp = run_dvx(repo, "config", "--unset", "hooks.fetch", env=e, check=False)  # not in .dvx/config
    assert cp.returncode == 1 and "not set in" in cp.stderr


def test_env_override_of_a_remote_key_reaches_a_real_push(tmp_path: Path) -> None:
    repo = make_dvx_repo(tmp_path / "repo")
    (repo / "data.csv").write_text("id,x\n1,2\n")
    run_dvx(repo, "add", "data.csv")
    written, used = tmp_path / "written-down", tmp_path / "from-env"
    run_dvx(repo, "remote", "add", "-d", "back-up.eu", str(written))
    # "back-up.eu" -> BACK_UP_EU (docs/config.md)
    run_dvx(repo, "push", env=dict(env(), DVX_REMOTE_BACK_UP_EU_URL=str(used)))
    assert any(p.is_file() for p in used.rglob("*")) and not written.exists()
    cp = run_dvx(repo, "push", env=dict(env(), DVX_REMOTE_BACK_UP_EU_JOBS="many"), check=False)
    assert cp.returncode == 2 and cp.stderr.count("\n") == 1, cp.stderr
    assert "environment variable DVX_REMOTE_BACK_UP_EU_JOBS" in cp.stderr


@pytest.mark.parametrize(("where", "text", "message"), [
    ("config.local", '[hooks]\nfetch = "yes"\n', "config.local:2: [hooks] fetch must be true or false, got 'yes'"),
    ("user", "[chunking]\navg_size = 4096\n", "user/config: chunking is fixed when a repository is created"),
    ("user", '[remote.origin]\nurl = "/x"\njobs = "lots"\n', "remote 'origin': jobs must be a positive integer"),
])
def test_bad_values_stop_with_one_line(plain: Path, tmp_path: Path, where: str, text: str, message: str) -> None:
    user = tmp_path / "user"
    path = user / "config" if where == "user" else plain / ".dvx" / where
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    e = dict(env(), DVX_GLOBAL_CONFIG_DIR=str(user))
    try:
        cp = run_dvx(plain, "remote", "list", "--json", env=e, check=False)
    finally:
        path.unlink()
    assert cp.returncode == 2 and cp.stderr.count("\n") == 1 and cp.stderr.startswith("error: "), cp.stderr
    assert message in cp.stderr and str(path) in cp.stderr


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_dvx_repo(tmp_path_factory.mktemp("plain") / "repo")


def test_bad_command_line_values_write_nothing(plain: Path) -> None:
    repo = plain
    before = (repo / ".dvx" / "config").read_bytes()
    for args in (("core.autostage", "maybe"), ("cache.compression", "lz4"), ("chunking.avg_size", "4096"),
                 ("core.autostag", "true"), ("core.remote", "nowhere"), ("gc.grace", "soon"), ("gc.repack", "2"),
                 ("core.lock_wait", "5 minutes")):
        cp = run_dvx(repo, "config", *args, check=False)
        assert cp.returncode == 2 and cp.stderr.startswith("error: ") and cp.stderr.count("\n") == 1, (args, cp.stderr)
    assert (repo / ".dvx" / "config").read_bytes() == before


def test_durations_take_a_unit_or_seconds(tmp_path: Path) -> None:
    """What `dvx config` accepts, the commands that read the key accept: one parser for every duration."""
    repo = make_dvx_repo(tmp_path / "repo")
    for value in ("0", "90", "1.5h", "2d", "1w", "30 m"):
        run_dvx(repo, "config", "gc.grace", value)
        assert tomllib.loads((repo / ".dvx" / "config").read_text())["gc"]["grace"] == value
        assert run_dvx(repo, "gc", "-w", "-f", "--json").returncode == 0, value
    run_dvx(repo, "config", "core.lock_stale", "45m")
    run_dvx(repo, "config", "core.lock_wait", "0")
    run_dvx(repo, "remote", "add", "-d", "r", str(tmp_path / "remote"))
    run_dvx(repo, "push")

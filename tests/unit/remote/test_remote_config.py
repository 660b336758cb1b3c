"""[remote.NAME] configuration: add, modify, list, remove, default; secrets only in config.local."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from dvx.config import Config
from dvx.errors import RemoteConfigError
from dvx.remote import open_remote
from dvx.remote.config import add_remote, get_remote, list_remotes, modify_remote, remove_remote, set_default


@pytest.fixture
def cfg(tmp_path: Path) -> Config:
    d = tmp_path / "repo" / ".dvx"
    d.mkdir(parents=True)
    return Config(d)


def _committed(cfg: Config) -> dict:
    return tomllib.loads(cfg.path.read_text())


def test_add_default_modify_list(cfg: Config) -> None:
    add_remote(cfg, "store", "s3://bucket/data", default=True)
    add_remote(cfg, "backup", "/mnt/backup")
    modify_remote(cfg, "store", "endpoint_url", "http://127.0.0.1:9000")
    modify_remote(cfg, "store", "jobs", "8")
    data = _committed(Config(cfg.dir))
    assert data["core"]["remote"] == "store"
    assert data["remote"]["store"] == {"url": "s3://bucket/data", "endpoint_url": "http://127.0.0.1:9000", "jobs": 8}
    names = [(s.name, s.default) for s in list_remotes(Config(cfg.dir))]
    assert names == [("backup", False), ("store", True)]
    spec = get_remote(Config(cfg.dir))
    assert spec.name == "store" and spec.options["jobs"] == 8 and "url" not in spec.options


def test_secrets_refused_in_committed_file(cfg: Config) -> None:
    add_remote(cfg, "s", "s3://b")
    with pytest.raises(RemoteConfigError) as ei:
        modify_remote(cfg, "s", "secret_access_key", "hunter2")
    assert ei.value.exit_code == 2 and "--local" in (ei.value.hint or "")
    assert "hunter2" not in cfg.path.read_text()
    modify_remote(cfg, "s", "secret_access_key", "hunter2", local=True)
    assert "hunter2" in cfg.local_path.read_text() and "hunter2" not in cfg.path.read_text()
    assert get_remote(Config(cfg.dir), "s").options["secret_access_key"] == "hunter2"


def test_errors_have_hints(cfg: Config) -> None:
    with pytest.raises(RemoteConfigError) as ei:
        get_remote(cfg)
    assert "dvx remote add -d NAME URL" in (ei.value.hint or "")
    add_remote(cfg, "a", "/x")
    with pytest.raises(RemoteConfigError, match="no default remote"):
        get_remote(cfg)
    with pytest.raises(RemoteConfigError, match="already exists"):
        add_remote(cfg, "a", "/y")
    with pytest.raises(RemoteConfigError, match="invalid remote name"):
        add_remote(cfg, "bad name", "/y")
    with pytest.raises(RemoteConfigError, match="no remote named"):
        modify_remote(cfg, "zzz", "url", "/z")
    with pytest.raises(RemoteConfigError, match="integer"):
        modify_remote(cfg, "a", "jobs", "many")
    with pytest.raises(RemoteConfigError, match="not configured"):
        open_remote(cfg, "nope")


def test_remove_and_default(cfg: Config) -> None:
    add_remote(cfg, "a", "/x", default=True)
    add_remote(cfg, "b", "/y")
    set_default(cfg, "b")
    assert get_remote(cfg).name == "b"
    remove_remote(cfg, "b")
    assert [s.name for s in list_remotes(cfg)] == ["a"]
    assert "remote" not in _committed(cfg).get("core", {})
    with pytest.raises(RemoteConfigError):
        set_default(cfg, "b")


def test_open_remote_resolves_relative_folder_against_repo(cfg: Config) -> None:
    add_remote(cfg, "here", "../remote-dir", default=True)
    r = open_remote(cfg)
    assert r.name == "here" and r.root == str(cfg.dir.parent.parent / "remote-dir")

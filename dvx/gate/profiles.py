"""Profiling a dataset version: the one place a version's profile is found or made.

A profile is looked up in this order: the PROFILE object the pointer names
(fetched alone from the default remote when the cache lacks it, so an old
baseline compares without its data), then the side store keyed by data id;
else it is computed from the data (a directory as the merge of its files'
profiles, each stored by file id, so after an append only new files are
read) and stored in the side store. Profiling writes no pointer file: only
``dvx add`` and a passing pre-commit hook name a stored profile in a
pointer (:func:`name_stored_profile`).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from dvx import scm
from dvx.errors import DvxError, PointerError
from dvx.gate.data import VersionData, open_version
from dvx.quality.stores import QualityStores
from dvx.workspace import Workspace
from dvx.workspace import pointer as ptr

if TYPE_CHECKING:
    from collections.abc import Callable

    from dvx.cluster import Compute
    from dvx.quality.profile import Profile


def stores(ws: Workspace) -> QualityStores:
    """The validation, drift and profile stores of a workspace."""
    return QualityStores.at(ws.dvx_dir / "cache")


def stored_profile(ws: Workspace, p: ptr.Pointer) -> Profile | None:
    """The profile of a pointer's data if one is stored (pointer's profile object or the side store)."""
    if p.profile:
        from dvx.hashing import from_hex
        from dvx.quality.profile import Profile

        oid = from_hex(p.profile)
        if not ws.cache_has(oid):
            _fetch_profile(ws, oid)
        if ws.cache_has(oid):
            try:
                return Profile.from_bytes(ws.cache.get(oid))
            except Exception:  # noqa: BLE001 - a damaged object is only a cache miss here
                pass
    return stores(ws).profiles.get(p.oid)


def _fetch_profile(ws: Workspace, oid: bytes) -> None:
    """Fetch one PROFILE object from the default remote, if one is configured.

    Only the small profile object travels; an unreachable remote is a miss.
    """
    if not ws.config.get("core", "remote"):
        return
    from dvx.remote import fetch_objects, open_remote

    try:
        # The one fetch path for given ids (it takes the cache's fetch lock itself).
        fetch_objects(ws.cache, open_remote(ws.config), [oid])
    except DvxError:
        return


def profile_rows(ws: Workspace, p: ptr.Pointer) -> int | None:
    """Row count from a stored profile, without importing numpy when the side store has it."""
    rows = stores(ws).profiles.row_count(p.oid)
    if rows is not None:
        return rows
    prof = stored_profile(ws, p) if p.profile else None
    return prof.row_count if prof is not None else None


def profile_version(ws: Workspace, rel: str, p: ptr.Pointer, rev: str | None = None, *, fetch: bool = False,
                    remote: str | None = None, compute: Compute | None = None) -> Profile:
    """The profile of version ``p`` of ``rel`` (``rev``: the commit holding ``p``;
    None: the index or the workspace): stored, or computed and stored.
    ``fetch``/``remote``: as for :func:`dvx.gate.data.open_version`.
    ``compute``: compute it on that Dask cluster (:mod:`dvx.cluster`; the client
    reads metadata only, fetching what it lacks); a stored profile starts no client.

    A computed profile goes to the side store (keyed by the data id) only:
    reading never writes a pointer file. The pre-commit hook and ``dvx add``
    name stored profiles in pointers (:func:`name_stored_profile`).
    """
    prof = stored_profile(ws, p)
    if prof is None:
        from dvx.quality.profile import profile_path

        if compute is not None:
            from dvx import cluster

            src = cluster.worker_source(ws, rel, p, rev, compute)
            with open_version(ws, rel, p, rev, fetch=True, remote=remote) as data:
                prof = cluster.profile_on_cluster(data.table(), src, compute, file_id=_file_ids(ws, p),
                                                  side=stores(ws).profiles)
            stores(ws).profiles.put(p.oid, prof)
            return prof
        with open_version(ws, rel, p, rev, fetch=fetch, remote=remote) as data:
            prof = _profile_tree(ws, p, data) if p.kind == "dir" else None
            if prof is None:
                prof = profile_path(data.table())
        stores(ws).profiles.put(p.oid, prof)
    return prof


def _profile_tree(ws: Workspace, p: ptr.Pointer, data: VersionData) -> Profile | None:
    """A directory's profile as the merge of its files' profiles, each stored by file id.

    Files merge in path order, as ``profile_path`` does for a directory.
    None when the tree is not in the cache or holds no table file.
    """
    from dvx.hashing import from_hex, to_hex
    from dvx.quality import profile as profile_mod
    from dvx.quality.tables import table_format

    oid = from_hex(p.oid)
    if not ws.cache_has(oid):
        return None
    entries = []
    for e in ws.cache.get_tree_manifest(oid).entries:
        parts = PurePosixPath(os.fsdecode(e.path)).parts
        if any(x.startswith((".", "_")) for x in parts) or table_format(parts[-1]) is None:
            continue
        entries.append((parts, e))
    entries.sort(key=lambda t: t[0])
    side = stores(ws).profiles
    out: Profile | None = None
    for parts, e in entries:
        fid = to_hex(e.file_oid)
        part = side.get(fid)
        if part is None:
            part = profile_mod.profile_path(data.table("/".join(parts)))
            side.put(fid, part)
        out = part if out is None else out.merge(part)
    return out


def _file_ids(ws: Workspace, p: ptr.Pointer) -> Callable[[str], str | None]:
    """File path in a tracked directory -> its file id, from the tree manifest (read on first use)."""
    from dvx.hashing import from_hex, to_hex

    ids: dict[str, str] = {}

    def file_id(path: str) -> str | None:
        if not ids and p.kind == "dir" and ws.cache_has(from_hex(p.oid)):
            ids.update((os.fsdecode(e.path), to_hex(e.file_oid)) for e in ws.cache.get_tree_manifest(from_hex(p.oid)).entries)
        return ids.get(path)

    return file_id


def attach_profile(ws: Workspace, rel: str, p: ptr.Pointer, prof: Profile) -> str | None:
    """Store ``prof`` as a PROFILE object and name it in the pointer file of ``rel``
    (see :func:`_attach`). Returns the profile id, or None when the pointer was left alone."""
    return _attach(ws, rel, p.oid, prof.to_bytes())


def name_stored_profile(ws: Workspace, rel: str, data_id: str) -> str | None:
    """Name in the pointer file of ``rel`` the profile the side store holds for ``data_id``, if any.

    What the pre-commit hook does for each staged dataset it passed: the
    commit then carries the profile id, and ``dvx push`` the profile, so an
    old baseline compares without its data. Reads no data and parses no
    profile (its id is the hash of its stored bytes). Returns the profile id
    named, or None.
    """
    try:
        data = stores(ws).profiles.path(data_id).read_bytes()
    except OSError:
        return None
    return _attach(ws, rel, data_id, data)


def _attach(ws: Workspace, rel: str, data_id: str, prof_bytes: bytes) -> str | None:
    """Store a profile (its canonical bytes) as a PROFILE object and name it in the pointer file of ``rel``.

    Only when that pointer file names the same data (``data_id``) and not this
    profile yet; if the pointer is staged as it was, the updated pointer is
    staged too, so a pre-commit gate commits the profile with the data.
    Returns the profile id, or None when the pointer was left alone.
    """
    from dvx._fsutil import atomic_write
    from dvx.hashing import from_hex, hash_hex
    from dvx.store.objects import ObjectType

    oid_hex = hash_hex(prof_bytes)
    pp = ptr.pointer_path(rel)
    target = ws.abspath(pp)
    try:
        old_text = target.read_text(encoding="utf-8")
        cur = ptr.parse(old_text, ws.display(pp))
    except (OSError, PointerError, UnicodeDecodeError):
        return None
    if cur.oid != data_id or cur.profile == oid_hex:
        return None
    with ws.lock(quiet=True), ws.cache.writer() as w:
        w.put(from_hex(oid_hex), ObjectType.PROFILE, prof_bytes)
    new = dataclasses.replace(cur, profile=oid_hex)  # every other key kept (an import's source-*)
    atomic_write(target, new.dumps(rel).encode("utf-8"))
    staged = scm.read_staged(ws.root, pp)
    if staged is not None and staged.decode("utf-8", "replace") == old_text:
        scm.stage(ws.root, [pp])
    return oid_hex

"""``cloud_status``: which objects each root needs that a remote lacks (``dvx status --cloud``)."""

from __future__ import annotations

from dvx.remote.common import closure, load_index
from dvx.remote.errors import translate_errors
from dvx.remote.session import Remote
from dvx.store import ObjectStore, ObjectType


def cloud_status(local: ObjectStore, remote: Remote, roots: list[tuple[bytes, ObjectType]]) -> list[list[bytes]]:
    """For each root, the ids of the objects it needs that the remote lacks."""
    load_index(local, remote, must_exist=False)
    has = remote.store.has
    with translate_errors(remote):
        per_root, _nowhere = closure(local, roots, has)
    out = []
    for (oid, _t), objs in zip(roots, per_root, strict=True):
        miss = [o for o in objs if not has(o)]
        if oid not in objs and not has(oid):
            miss.append(oid)
        out.append(miss)
    return out


def remote_lacks(local: ObjectStore, remote: Remote, oids: list[bytes]) -> set[bytes]:
    """The ids of ``oids`` no index of the remote names: one lookup each, no walk. A manifest the
    remote holds is complete there (push writes manifests after what they name)."""
    load_index(local, remote, must_exist=False)
    with translate_errors(remote):
        return {o for o in oids if not remote.store.has(o)}

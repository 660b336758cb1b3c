"""What ``dvx gc`` keeps: the pointers of the workspace and of the chosen revisions, and the
configuration of the sweep (``[gc] repack``, ``[gc] grace``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dvx.config import Config
from dvx.errors import ConfigError, DvxError, GcRefusedError, UsageError
from dvx.hashing import from_hex
from dvx.scm import revs
from dvx.scm.git import resolve_rev
from dvx.store.objects import ObjectType
from dvx.workspace import Workspace
from dvx.workspace import pointer as ptr

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"([0-9]{1,9})\s*([smhdw])")
DEFAULT_GRACE = "1h"
DEFAULT_REPACK = 0.5
NO_SCOPE = "dvx gc: say what to keep: -w (workspace), --all-branches, --all-tags, --all-commits or --rev REV"


def parse_duration(text: str) -> float:
    """Seconds of ``"30m"``, ``"2d"``, ``"1h"``, ``"0s"`` (s, m, h, d, w); ValueError otherwise."""
    m = _DURATION.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"{text!r:.40} is not a duration such as \"30m\", \"1h\" or \"2d\"")
    return float(int(m.group(1)) * _UNITS[m.group(2)])


@dataclass
class GcSettings:
    """``[gc]`` of the configuration."""

    repack: float = DEFAULT_REPACK
    grace: float = 3600.0
    grace_text: str = DEFAULT_GRACE


def settings(cfg: Config) -> GcSettings:
    """``[gc] repack`` (garbage share above which a pack is repacked, 0..1) and ``[gc] grace``."""
    sec = cfg.data.get("gc")
    out = GcSettings()
    if sec is None:
        return out
    if not isinstance(sec, dict):
        raise ConfigError(f"{cfg.where(None, 'gc')}: [gc] must be a table", "fix the file by hand")
    rp = sec.get("repack", DEFAULT_REPACK)
    if isinstance(rp, bool) or not isinstance(rp, (int, float)) or not 0 <= rp <= 1:
        raise ConfigError(f"{cfg.where('gc', 'repack')}: [gc] repack must be a number from 0 to 1 (the garbage "
                          f"share above which a pack is rewritten), got {rp!r:.40}", "fix the file by hand")
    gr = sec.get("grace", DEFAULT_GRACE)
    try:
        if not isinstance(gr, str):
            raise ValueError(f"{gr!r:.40} is not a string")
        out.grace = parse_duration(gr)
    except ValueError as e:
        raise ConfigError(f"{cfg.where('gc', 'grace')}: [gc] grace: {e}", "fix the file by hand") from None
    out.repack, out.grace_text = float(rp), gr.strip()
    return out


@dataclass
class Roots:
    """The pointers gc keeps: ``{(object id, type): [labels]}``; the commits they come from."""

    objects: dict[tuple[bytes, ObjectType], list[str]] = field(default_factory=dict)
    revisions: list[str] = field(default_factory=list)
    pointers: int = 0
    workspace: bool = True

    def take(self, p: ptr.Pointer, label: str) -> None:
        self.pointers += 1
        kind = ObjectType.FILE if p.kind == "file" else ObjectType.TREE
        self.objects.setdefault((from_hex(p.oid), kind), []).append(label)
        if p.profile:
            self.objects.setdefault((from_hex(p.profile), ObjectType.PROFILE), []).append(label)

    def data_ids(self) -> set[str]:
        """Hex ids of the data the pointers name (keys of the side stores)."""
        return {o.hex() for (o, t) in self.objects if t != ObjectType.PROFILE}


def gather(ws: Workspace, *, workspace: bool, all_branches: bool, all_tags: bool, all_commits: bool,
           revs_wanted: list[str]) -> Roots:
    """The pointers to keep (the workspace always, as DVC: any scope implies it); UsageError without a scope."""
    if not (workspace or all_branches or all_tags or all_commits or revs_wanted):
        raise UsageError(NO_SCOPE)
    out = Roots()
    for pp in ws.find_pointers():
        out.take(ptr.load(ws.abspath(pp), ws.display(pp)), ptr.tracked_path(pp))
    shas: list[str] = []
    if all_commits:
        shas += revs.all_commits(ws.root)
    else:
        if all_branches:
            shas += revs.branch_heads(ws.root)
        if all_tags:
            shas += revs.tag_heads(ws.root)
        shas += [resolve_rev(ws.root, r) for r in revs_wanted]
    out.revisions = list(dict.fromkeys(shas))
    blobs = revs.pointer_blobs(ws.root, out.revisions)
    ids = list(blobs)
    for bid, obj in zip(ids, revs.read_objects(ws.root, ids), strict=True):
        sha, path = blobs[bid][0]
        shown = f"{sha[:12]}:{path}"
        try:
            p = ptr.loads(ptr.require_blob(obj[1] if obj is not None else None, shown), shown)
        except DvxError as e:
            raise GcRefusedError(f"dvx gc: nothing deleted: pointer {shown} cannot be read ({e.message}); "
                                 "what it needs is unknown") from None
        for sha, path in blobs[bid]:
            out.take(p, f"{ptr.tracked_path(path)}@{sha[:12]}")
    return out

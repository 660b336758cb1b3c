"""What ``dvx gc`` keeps: the pointers of the workspace and of the chosen revisions, and the
configuration of the sweep (``[gc] repack``, ``[gc] grace``)."""

from __future__ import annotations

from dataclasses import dataclass

from dvx import scope
from dvx._configkeys import parse_duration
from dvx.config import Config
from dvx.errors import ConfigError, GcRefusedError, UsageError
from dvx.scope import PointerSet, Revisions
from dvx.workspace import Workspace

DEFAULT_GRACE = "1h"
DEFAULT_REPACK = 0.5
NO_SCOPE = "dvx gc: say what to keep: -w (workspace), --all-branches, --all-tags, --all-commits or --rev REV"


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
        out.grace = parse_duration(gr)
    except ValueError as e:
        raise ConfigError(f"{cfg.where('gc', 'grace')}: [gc] grace {e}", "fix the file by hand") from None
    out.repack, out.grace_text = float(rp), str(gr).strip()
    return out


Roots = PointerSet  # what gc keeps: the chosen pointers (dvx.scope)


def gather(ws: Workspace, *, workspace: bool, all_branches: bool, all_tags: bool, all_commits: bool,
           revs_wanted: list[str]) -> PointerSet:
    """The pointers to keep (the workspace always, as DVC: any scope implies it); UsageError without a
    scope, GcRefusedError when a pointer of a chosen revision cannot be read (what it needs is unknown)."""
    chosen = Revisions(all_branches, all_tags, all_commits, tuple(revs_wanted))
    if not (workspace or chosen):
        raise UsageError(NO_SCOPE)
    out = scope.gather(ws, chosen)
    if out.skipped:
        bad = out.skipped[0]
        raise GcRefusedError(f"dvx gc: nothing deleted: pointer {bad.source} cannot be read ({bad.message}); "
                             "what it needs is unknown")
    return out

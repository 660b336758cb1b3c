"""Errors the user sees: one line, an exit code and a hint naming the next step.

Modelled on click's exceptions: each class carries its ``exit_code``; the CLI
prints one line ``error: <message> (hint: <hint>)`` on stderr and exits with it.
A hint names a command only where that command is known to fix the state
(tests/cli/test_hints.py and the tests it lists run each one).
Exit code 1 is a failed check or operation, 2 a usage or configuration error.
"""

from __future__ import annotations

from typing import ClassVar


class DvxError(Exception):
    """Base class of every error dvx reports to a user."""

    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __reduce__(self) -> tuple[object, ...]:
        # Every subclass pickles with its message, hint and fields whatever its __init__
        # takes: an error raised on a Dask worker reaches the client whole.
        return _restore, (type(self), self.args, dict(self.__dict__))

    def format_message(self) -> str:
        """The single line printed for this error (hint appended after '; ')."""
        if self.hint:
            return f"{self.message} (hint: {self.hint})"
        return self.message


def _restore(cls: type[DvxError], args: tuple[object, ...], state: dict[str, object]) -> DvxError:
    """Unpickle a DvxError (see ``DvxError.__reduce__``)."""
    e = cls.__new__(cls)
    Exception.__init__(e, *args)
    e.__dict__.update(state)
    return e


class UsageError(DvxError):
    """The command was called wrongly (bad path, bad option combination)."""

    exit_code = 2


class ConfigError(DvxError):
    """A configuration file, suite or binding is invalid."""

    exit_code = 2


class NotARepoError(UsageError):
    """Not inside a git work tree, or dvx is not initialised there."""


class PointerError(ConfigError):
    """A pointer file ``PATH.dvx`` cannot be parsed (``file:line: what``)."""

    def __init__(self, path: str, line: int | None, what: str, hint: str | None = None) -> None:
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {what}", hint)
        self.path = path
        self.line = line


class FormatVersionError(ConfigError):
    """A store, index, record or config written in a format this dvx does not read (exit 2)."""


class UnsafePathError(ConfigError):
    """A path from a repository or remote that dvx refuses to write (exit 2).

    It would resolve into ``.git`` or ``.dvx``, outside the work tree, or
    through a symbolic link; or it is not a valid file name (dvx._paths).
    Nothing was written when this is raised.
    """


class ObjectMissingError(DvxError):
    """An object a pointer or manifest names is not in the cache or remote."""


class CorruptObjectError(DvxError):
    """Stored bytes do not hash to the id that names them."""


class DamagedCacheError(CorruptObjectError):
    """Cached objects failed verification; their packs were quarantined and the objects now count as missing."""


class FileReadError(DvxError):
    """A workspace file cannot be read."""


class WorkspaceChangedError(DvxError):
    """Checkout would overwrite a local change that is not in the cache."""


class LockTimeoutError(DvxError):
    """Another dvx process holds the repository lock for too long."""


class RemoteError(DvxError):
    """A remote cannot be reached, is misconfigured or answered wrongly."""


class ClusterError(DvxError):
    """The Dask cluster could not be reached or lost mid-job (``--scheduler``)."""


class RemoteConfigError(ConfigError):
    """A remote is missing from, or invalid in, the configuration."""


class CheckFailedError(DvxError):
    """Validation or drift failed (exit 1); the report was already printed."""


class DataGateError(CheckFailedError):
    """Raised by ``dvx.require_valid`` when a dataset version fails its gate."""

    def __init__(self, message: str, failures: list[str] | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.failures = list(failures or [])


class DataFormatError(DvxError):
    """A dataset file cannot be read as a table (corrupt Parquet, ragged CSV).

    Exit 1, not 2: the data failed its check; the configuration is fine.
    Message: ``file[:line]: what``.
    """

    def __init__(self, path: str, what: str, line: int | None = None, hint: str | None = None) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {what}", hint)
        self.path = str(path)
        self.line = line


class SuiteError(ConfigError):
    """A suite, schema or binding file is invalid (``file[:line]: what``, exit 2)."""

    def __init__(self, path: str, what: str, line: int | None = None, hint: str | None = None) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {what}", hint)
        self.path = str(path)
        self.line = line


class StoreWriteError(DvxError):
    """Writing a pack or index to an object store failed; that writer is unusable."""


class WorkspaceWriteError(DvxError):
    """Writing a work tree file (data, pointer, .gitignore) failed: full disk, permissions."""

    @classmethod
    def from_os_error(cls, e: OSError, shown: str, rerun: str | None = None) -> WorkspaceWriteError:
        """``shown: cannot write: why`` with a hint to fix the cause and run ``rerun`` (or the command) again."""
        import errno

        again = f"run `{rerun}` again" if rerun else "run the command again"
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            return cls(f"{shown}: cannot write: no space left on the device", f"free space on that disk, then {again}")
        if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return cls(f"{shown}: cannot write: {e.strerror}", f"make the folder writable, then {again}")
        return cls(f"{shown}: cannot write: {e.strerror or e}", "fix the cause and run the command again")


class AcceptanceError(ConfigError):
    """The accepted-drift file ``expectations/accepted.toml`` is invalid (``file[:line]: what``, exit 2)."""


class LockedError(DvxError):
    """A store is locked by another dvx process (a push beside a gc, or a stale lock; exit 1)."""


class GcRefusedError(DvxError):
    """``dvx gc`` deleted nothing: a kept root could not be walked (what it needs is unknown)."""

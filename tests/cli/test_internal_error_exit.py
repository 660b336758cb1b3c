"""Exit codes of ``dvx.cli.main`` (issue 14, item 3): 255 for an unexpected internal error, as DVC,
distinct from 1 (a failed check) and 2 (usage).

A real click command that raises is registered on the real ``dvx`` group and run through
``main()``, the entry point of the ``dvx`` script. It runs in a child process: click caches
per-command state (the help option) that would leak into other tests of this process.
"""

from __future__ import annotations

import json
import subprocess
import sys

from dvxtest import env

SCRIPT = r'''
import contextlib, io, json, sys
import click
from dvx.cli import INTERNAL_ERROR, cli, main
from dvx.errors import CheckFailedError

@cli.command("boom-test")
@click.option("--kind", type=click.Choice(["bug", "check"]), required=True)
def boom(kind):
    if kind == "check":
        raise CheckFailedError("3 checks failed")
    {}["missing key"]  # a bug: KeyError

out = {"INTERNAL_ERROR": INTERNAL_ERROR}
for args in sys.argv[1:]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            main(args.split())
            code = 0
        except SystemExit as e:
            code = e.code
    out[args] = [code, err.getvalue()]
print(json.dumps(out))
'''


def test_exit_codes_of_main() -> None:
    cases = ["boom-test --kind bug", "-v boom-test --kind bug", "boom-test --kind check",
             "boom-test --kind nonsense", "no-such-command"]
    cp = subprocess.run([sys.executable, "-c", SCRIPT, *cases], capture_output=True, text=True, env=env(), timeout=120)
    assert cp.returncode == 0, cp.stderr
    got = json.loads(cp.stdout)
    assert got["INTERNAL_ERROR"] == 255
    # a bug: one line, 255
    assert got["boom-test --kind bug"] == [255, "error: KeyError: 'missing key' (run with -v for a traceback)\n"]
    # -v: the traceback, then the line; still 255
    code, err = got["-v boom-test --kind bug"]
    assert code == 255 and err.startswith("Traceback (most recent call last):") and "in boom" in err, err
    assert err.endswith("error: KeyError: 'missing key'\n")
    # a DvxError keeps its code (1: a failed check); usage is 2
    assert got["boom-test --kind check"] == [1, "error: 3 checks failed\n"]
    assert got["boom-test --kind nonsense"][0] == 2
    assert got["no-such-command"][0] == 2

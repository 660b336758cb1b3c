"""A loopback TCP proxy in front of moto cuts every connection in the middle of a push."""

from __future__ import annotations

import contextlib
import random
import socket
import threading
from pathlib import Path
from typing import Any

import pytest
from unit.remote.remotekit import build_tree, local_store, read_tree

from dvx.errors import RemoteError
from dvx.remote import fetch, open_url, push
from dvx.store import ObjectType
from dvx.store import pack as _pack
from dvx.store.index import decode_index

pytestmark = pytest.mark.s3


class CutProxy:
    """Forwards 127.0.0.1:port -> upstream; after ``cut_after`` client bytes it drops
    every connection and refuses new ones until ``heal()``."""

    def __init__(self, upstream: int, cut_after: int) -> None:
        self.upstream = upstream
        self.cut_after = cut_after
        self.sent = 0
        self.cut = threading.Event()
        self.lock = threading.Lock()
        self.conns: list[socket.socket] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def heal(self) -> None:
        self.cut.clear()
        self.cut_after = 1 << 62

    def close(self) -> None:
        self.sock.close()
        self._drop()

    def _drop(self) -> None:
        with self.lock:
            for s in self.conns:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self.conns.clear()

    def _accept(self) -> None:
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            if self.cut.is_set():
                c.close()
                continue
            try:
                u = socket.create_connection(("127.0.0.1", self.upstream))
            except OSError:
                c.close()
                continue
            with self.lock:
                self.conns += [c, u]
            threading.Thread(target=self._pipe, args=(c, u, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(u, c, False), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, upstream: bool) -> None:
        try:
            while data := src.recv(65536):
                if upstream:
                    with self.lock:
                        self.sent += len(data)
                        over = self.sent > self.cut_after
                    if over and not self.cut.is_set():
                        self.cut.set()
                        self._drop()
                        return
                dst.sendall(data)
        except OSError:
            pass


def test_connection_cut_mid_push_then_rerun_completes(tmp_path: Path, s3_bucket: Any, moto_server: str) -> None:
    bk = s3_bucket()
    rng = random.Random(3)
    files = {f"f{i:02d}": rng.randbytes(60_000) for i in range(40)}  # 2.4 MB
    a = local_store(tmp_path / "a", compression=None)
    tree = build_tree(a, files)
    port = int(moto_server.rsplit(":", 1)[1])
    proxy = CutProxy(port, cut_after=900_000)
    try:
        opts = {"endpoint_url": f"http://127.0.0.1:{proxy.port}", "pack_size": 128 << 10}
        url = f"{bk.url}/cut"
        with pytest.raises(RemoteError) as ei:
            push(a, open_url(url, opts, name="cut"), [(tree, ObjectType.TREE)], jobs=2)
        assert proxy.cut.is_set() and "'cut'" in ei.value.message and "\n" not in ei.value.format_message()
        proxy.heal()
        # Whatever the cut left behind: no index names a pack that is missing or short.
        fs = bk.fs()
        need: dict[bytes, int] = {}
        for p in fs.find(f"{bk.name}/cut/index"):
            for rec in decode_index(fs.cat_file(p)).values():
                need[rec[1]] = max(need.get(rec[1], 0), rec[2] + rec[3])
        for pid, end in need.items():
            assert fs.size(_pack.pack_path(f"{bk.name}/cut", pid)) >= end
        rerun = push(a, open_url(url, opts), [(tree, ObjectType.TREE)], jobs=2)
        assert rerun.objects + rerun.present == len(a.entries())
        b = local_store(tmp_path / "b")
        assert not fetch(open_url(url, opts), b, [(tree, ObjectType.TREE)]).missing
        assert read_tree(b, tree) == files
    finally:
        proxy.close()

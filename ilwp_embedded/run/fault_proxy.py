# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""A TCP proxy that damages a serial link on purpose: drops, duplicates and bit-flips bytes at
set rates, seeded (repeatable), in each direction.  For tests of the protocol's retries:

    proxy = FaultProxy(drop=0.003, dup=0.003, flip=0.003, seed=1)
    link = QemuLink(board, elf, proxy=proxy)     # harness <-> proxy <-> QEMU
    proxy.counts  ->  {"drop": ..., "dup": ..., "flip": ..., "bytes": ...}
"""

from __future__ import annotations

import socket
import threading
import time

import numpy as np


class FaultProxy:
    def __init__(self, drop: float = 0.0, dup: float = 0.0, flip: float = 0.0, seed: int = 0,
                 directions: str = "both", connect_timeout_s: float = 10.0):
        if directions not in ("both", "to_device", "to_host"):
            raise ValueError("directions: both, to_device or to_host")
        self.rates = {"drop": drop, "dup": dup, "flip": flip}
        self.seed = seed
        self.directions = directions
        self.connect_timeout_s = connect_timeout_s
        self.counts = {"drop": 0, "dup": 0, "flip": 0, "bytes": 0}
        self._lock = threading.Lock()
        self._listen: socket.socket | None = None
        self._socks: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()

    def start(self, target_port: int) -> int:
        """Listen on a free local port, forward to 127.0.0.1:target_port; returns the port."""
        self._listen = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listen.bind(("127.0.0.1", 0))
        self._listen.listen(1)
        port = self._listen.getsockname()[1]
        t = threading.Thread(target=self._accept, args=(target_port,), daemon=True)
        t.start()
        self._threads.append(t)
        return port

    def _accept(self, target_port: int) -> None:
        assert self._listen is not None
        self._listen.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self._listen.accept()
                break
            except socket.timeout:
                continue
            except OSError:
                return
        else:
            return
        deadline = time.monotonic() + self.connect_timeout_s
        server = None
        while server is None and time.monotonic() < deadline and not self._stop.is_set():
            try:
                server = socket.create_connection(("127.0.0.1", target_port), timeout=1.0)
            except OSError:
                time.sleep(0.05)
        if server is None:
            client.close()
            return
        for s in (client, server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.settimeout(0.2)
        self._socks += [client, server]
        rng = np.random.default_rng(self.seed)
        seeds = rng.integers(0, 2**32, 2)
        for src, dst, seed, dirn in ((client, server, seeds[0], "to_device"),
                                     (server, client, seeds[1], "to_host")):
            active = self.directions in ("both", dirn)
            t = threading.Thread(target=self._pump, args=(src, dst, np.random.default_rng(seed), active),
                                 daemon=True)
            t.start()
            self._threads.append(t)

    def damage(self, data: bytes, rng: np.random.Generator) -> bytes:
        """The bytes as the faulty wire delivers them."""
        n = len(data)
        r = rng.random((n, 3))
        out = bytearray()
        drop, dup, flip = self.rates["drop"], self.rates["dup"], self.rates["flip"]
        c = {"drop": 0, "dup": 0, "flip": 0}
        for i, b in enumerate(data):
            if r[i, 0] < drop:
                c["drop"] += 1
                continue
            if r[i, 2] < flip:
                b ^= 1 << int(rng.integers(0, 8))
                c["flip"] += 1
            out.append(b)
            if r[i, 1] < dup:
                out.append(b)
                c["dup"] += 1
        with self._lock:
            for k, v in c.items():
                self.counts[k] += v
            self.counts["bytes"] += n
        return bytes(out)

    def _pump(self, src: socket.socket, dst: socket.socket, rng: np.random.Generator, active: bool) -> None:
        while not self._stop.is_set():
            try:
                data = src.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                break
            if not data:
                break
            if active:
                data = self.damage(data, rng)
            try:
                dst.sendall(data)
            except OSError:
                break
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self) -> None:
        self._stop.set()
        for s in self._socks + ([self._listen] if self._listen else []):
            try:
                s.close()
            except OSError:
                pass
        for t in self._threads:
            t.join(timeout=2)

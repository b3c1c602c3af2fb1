# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The board farm: the one module that speaks to labgrid (optional extra `farm`).

A labgrid coordinator ($LG_COORDINATOR, default 127.0.0.1:20408) knows places (boards), each with
tags (board=nucleo-f746zg) and the resources its exporters share: a `NetworkSerialPort` (raw TCP
or rfc2217, e.g. ser2net), a debug probe.  Here:

    port_url("labgrid:PLACE")          the serial URL of a place you have acquired ("labgrid:+" the place
                                        of the reservation $LG_TOKEN, as labgrid-client -p + does)
    with reserved(tags, units, prio) as places:   N places by tag: reserved, waited for, acquired;
        ...                                       at the end always cancelled, then released

Cancel before release: a released place that is still reserved goes back to the reservation, and the
next waiter gets it only at the coordinator's next 15 s poll; cancelled first, the release hands it
over at once.  This holds on errors and Ctrl-C too (finally).
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from ilwp_embedded.errors import IlwpError

PREFIX = "labgrid:"
DEFAULT_COORDINATOR = "127.0.0.1:20408"
POLL_S = 0.1  # how often a waiting reservation is polled (labgrid-client: 1 s)


def _labgrid():
    if not logging.getLogger().handlers:  # labgrid logs its failures to the root logger: they
        logging.getLogger().addHandler(logging.NullHandler())  # come out as our one-line errors
    try:
        from labgrid.remote import client
        from labgrid.remote.generated import labgrid_coordinator_pb2 as pb2
    except ImportError:
        raise IlwpError("labgrid is not installed: pip install 'ilwp-embedded[farm]'") from None
    return client, pb2


@dataclass(frozen=True)
class FarmPlace:
    """An acquired place: where its serial console is and what it is."""

    name: str
    url: str  # socket://HOST:PORT (raw TCP) or rfc2217://HOST:PORT
    host: str  # the exporter's host: the shard's node
    serial: str  # the board's serial number: the place's `serial` tag (labgrid-client set-tags serial=...)
    tags: dict


_SESSIONS: dict[str, "Farm"] = {}


def connect(address: str | None = None) -> "Farm":
    """This process's session with the coordinator at `address` (default $LG_COORDINATOR).  One per
    process and address: gRPC shares one connection between a process's channels, and the
    coordinator refuses a second client stream on it."""
    address = address or os.environ.get("LG_COORDINATOR") or DEFAULT_COORDINATOR
    if address not in _SESSIONS:
        _SESSIONS[address] = Farm(address)
        if len(_SESSIONS) == 1:
            atexit.register(lambda: [f.close() for f in list(_SESSIONS.values())])
    return _SESSIONS[address]


class Farm:
    """A session with the coordinator (get it from `connect`)."""

    def __init__(self, address: str):
        client, self._pb2 = _labgrid()
        self.address = address
        self._grpc_error = __import__("grpc").aio.AioRpcError
        self._user_error = client.Error
        try:
            self.session = client.start_session(self.address, extra={"args": argparse.Namespace(place=None)})
        except (client.Error, ConnectionError, OSError) as e:
            raise IlwpError(f"no labgrid coordinator at {self.address} ($LG_COORDINATOR): "
                            f"{str(e).removeprefix('Error: ')}") from None
        self.loop = self.session.loop

    # -- plumbing ---------------------------------------------------------------------------
    def _call(self, what: str, coro):
        try:
            return self.loop.run_until_complete(coro)
        except self._grpc_error as e:
            raise IlwpError(f"labgrid: {what} failed: {e.details()}") from None
        except self._user_error as e:
            raise IlwpError(f"labgrid: {what}: {e}") from None

    def sync(self) -> None:
        """Take in every place and resource update the coordinator has sent."""
        self._call("sync", self.session.sync_with_coordinator())

    def close(self) -> None:
        _SESSIONS.pop(self.address, None)
        try:
            self.loop.run_until_complete(self.session.stop())
            self.loop.run_until_complete(self.session.close())
        except Exception:  # noqa: BLE001 - closing a dead session must not hide the real error
            pass

    # -- places -----------------------------------------------------------------------------
    def place(self, pattern: str):
        """The place a labgrid pattern names (name, alias, '+' for $LG_TOKEN, '+TOKEN')."""
        self.sync()
        try:
            return self.session.get_place(pattern)
        except self._user_error as e:
            raise IlwpError(f"labgrid: {e}") from None

    def acquired(self, pattern: str) -> FarmPlace:
        """A place this user holds on this host, with its serial console; IlwpError otherwise."""
        place = self.place(pattern)
        me = f"{self.session.gethostname()}/{self.session.getuser()}"
        if place.acquired != me and me not in place.allowed:
            who = f"acquired by {place.acquired}" if place.acquired else "not acquired"
            raise IlwpError(f"labgrid place {place.name} is {who}: acquire it first "
                            f"(labgrid-client -p {place.name} acquire) or use validate --reserve")
        res = self.session.get_target_resources(place)
        ports = [(name, r) for (name, cls), r in sorted(res.items()) if cls == "NetworkSerialPort"]
        if not ports:
            raise IlwpError(f"labgrid place {place.name} has no serial port (NetworkSerialPort) to talk to")
        p = ports[0][1].params
        scheme = "socket" if p.get("protocol", "rfc2217") == "raw" else "rfc2217"
        return FarmPlace(place.name, f"{scheme}://{p['host']}:{p['port']}", str(p["host"]),
                         str(place.tags.get("serial", "")), dict(place.tags))

    def acquire(self, name: str) -> None:
        self._call(f"acquire {name}", self.session.stub.AcquirePlace(self._pb2.AcquirePlaceRequest(placename=name)))

    def release(self, name: str) -> None:
        self._call(f"release {name}", self.session.stub.ReleasePlace(self._pb2.ReleasePlaceRequest(placename=name)))

    # -- reservations -----------------------------------------------------------------------
    def reserve(self, tags: dict[str, str], prio: float = 0.0) -> str:
        """A waiting reservation for one place with `tags`; its token."""
        fl = {"main": self._pb2.Reservation.Filter(filter=tags)}
        r = self._call("reserve", self.session.stub.CreateReservation(
            self._pb2.CreateReservationRequest(filters=fl, prio=float(prio))))
        return r.reservation.token

    def poll(self, token: str) -> tuple[str, list[str]]:
        """(state, allocated place names) of a reservation; polling also keeps it alive."""
        from labgrid.remote.common import Reservation

        r = Reservation.from_pb2(self._call("poll reservation", self.session.stub.PollReservation(
            self._pb2.PollReservationRequest(token=token))).reservation)
        return r.state.name, [p for group in r.allocations.values() for p in group]

    def cancel(self, token: str) -> None:
        self._call("cancel reservation", self.session.stub.CancelReservation(
            self._pb2.CancelReservationRequest(token=token)))


def parse_tags(spec: str) -> dict[str, str]:
    """'board=nucleo-f746zg,lab=b2' -> {'board': 'nucleo-f746zg', 'lab': 'b2'}."""
    tags = {}
    for pair in filter(None, (p.strip() for p in spec.replace(" ", ",").split(","))):
        k, sep, v = pair.partition("=")
        if not sep or not k or not v:
            raise IlwpError(f"--reserve {spec!r}: expected KEY=VALUE[,KEY=VALUE...], e.g. board=nucleo-f746zg")
        tags[k] = v
    if not tags:
        raise IlwpError("--reserve needs at least one tag, e.g. board=nucleo-f746zg")
    return tags


def port_url(port: str, address: str | None = None) -> tuple[str, FarmPlace]:
    """'labgrid:PLACE' -> the serial URL of that acquired place (and the place)."""
    pattern = port[len(PREFIX):]
    if not pattern:
        raise IlwpError("labgrid: give a place: --port labgrid:PLACE (or labgrid:+ for $LG_TOKEN's)")
    fp = connect(address).acquired(pattern)
    return fp.url, fp


@contextmanager
def reserved(tags: dict[str, str], units: int = 1, prio: float = 0.0, wait_s: float = 600.0,
             address: str | None = None) -> Iterator[list[FarmPlace]]:
    """`units` places with `tags`, reserved, waited for (at most `wait_s`) and acquired; on leaving
    (also by an error or Ctrl-C) every reservation is cancelled first, then every place released."""
    if units <= 0:
        raise IlwpError(f"--units must be positive, got {units}")
    tokens: list[str] = []
    held: list[str] = []
    farm = connect(address)
    try:
        tokens = [farm.reserve(tags, prio) for _ in range(units)]
        deadline = time.monotonic() + wait_s
        names: dict[str, list[str]] = {}
        while len(names) < len(tokens):
            for t in tokens:
                if t in names:
                    farm.poll(t)  # keep it alive while the others wait
                    continue
                state, places = farm.poll(t)
                if state in ("expired", "invalid"):
                    raise IlwpError(f"labgrid reservation {t} for {tags} is {state}")
                if places:
                    names[t] = places
            if len(names) < len(tokens):
                if time.monotonic() > deadline:
                    raise IlwpError(f"labgrid: {len(tokens) - len(names)} of {units} places with "
                                    f"{tags} not free after {wait_s:.0f} s")
                time.sleep(POLL_S)
        for t in tokens:
            for name in names[t]:
                farm.acquire(name)
                held.append(name)
        farm.sync()
        yield [farm.acquired(n) for n in held]
    finally:
        for t in tokens:  # cancel first: the release below then hands each place on at once
            try:
                farm.cancel(t)
            except IlwpError:
                pass
        for name in held:
            try:
                farm.release(name)
            except IlwpError:
                pass


def flash(place: FarmPlace, board, elf, address: str | None = None) -> None:
    """Write `elf` to an acquired place's board with labgrid's OpenOCD driver and the board's
    OpenOCD config (its manifest's upload.openocd); the place needs a debug probe resource."""
    if not board.openocd_config:
        raise IlwpError(f"board {board.id} names no OpenOCD config (upload.openocd in {board.manifest.name}): "
                        "cannot flash it through labgrid")
    _labgrid()
    from labgrid import Target
    from labgrid.driver import OpenOCDDriver
    from labgrid.exceptions import NoSupplierFoundError
    from labgrid.resource.remote import RemotePlace, RemotePlaceManager

    farm = connect(address)
    mgr = RemotePlaceManager.get()  # labgrid's places share this process's one session (see connect)
    if mgr.session is not farm.session:
        mgr.session, mgr.loop, mgr.url = farm.session, farm.loop, farm.address
    target = Target(place.name)
    try:
        RemotePlace(target, name=place.name)
        drv = OpenOCDDriver(target, name=None, config=board.openocd_config)
    except NoSupplierFoundError:
        raise IlwpError(f"labgrid place {place.name} has no debug probe (USBDebugger) to flash with") from None
    try:
        target.activate(drv)
        drv.load(str(elf))
    except Exception as e:  # noqa: BLE001 - labgrid's and OpenOCD's failures, in one line
        raise IlwpError(f"flashing {place.name} with OpenOCD failed: {str(e).splitlines()[0] if str(e) else e!r}") from None
    finally:
        target.cleanup()


# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The test helpers' own environment handling: `no_network` entered by parallel build threads
must leave the process's environment as it found it, whichever thread leaves last (an under-load
CI run once left the dead proxy set for a whole worker, and every labgrid test after it failed)."""

from __future__ import annotations

import os
import threading

from helpers import NO_NETWORK_ENV, no_network


def test_no_network_from_overlapping_threads_restores_the_environment():
    before = {k: os.environ.get(k) for k in NO_NETWORK_ENV}
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def a():  # enters first, leaves first
        with no_network():
            a_in.set()
            b_in.wait(10)
        a_out.set()

    def b():  # enters second, leaves last: the order that used to restore the proxy
        a_in.wait(10)
        with no_network():
            b_in.set()
            a_out.wait(10)
            seen["inside_after_a_left"] = os.environ.get("HTTPS_PROXY")

    ts = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    assert seen["inside_after_a_left"] == NO_NETWORK_ENV["HTTPS_PROXY"]  # still offline for b
    assert {k: os.environ.get(k) for k in NO_NETWORK_ENV} == before

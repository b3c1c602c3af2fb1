# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Running models on boards: the serial protocol (framing.py, hello.py, session.py), links to QEMU
and real boards (link.py), validation.

    fw = build_inference_firmware("qemu-m4", generate(graph), out_dir)      # target/firmware.py
    link = open_link("qemu:qemu-m4", elf=fw.elf)    # or open_link("/dev/ttyACM0")
    dev = Device(link); dev.connect()               # waits for the boot HELLO
    out, elapsed, unit, decode_ticks = dev.infer(x)
    result = validate(dev, graph, xs, labels, clock_hz=board.cpu_hz)   # bit-exact vs golden
    result = validate_model(board, graph, xs, labels)                  # all of the above
"""

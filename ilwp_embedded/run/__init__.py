"""Running models on boards: the serial protocol, links to QEMU and real boards, validation.

    link = open_link("qemu:qemu-m4", elf=fw.elf)     # or open_link("/dev/ttyACM0")
    dev = Device(link); dev.connect()
    out, elapsed, unit, decode_ticks = dev.infer(x)
    result = validate(dev, graph, dataset)           # bit-exact vs the golden interpreter
"""

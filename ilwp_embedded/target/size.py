# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Flash and RAM use of a linked firmware ELF, read with pyelftools."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from ilwp_embedded.errors import IlwpError


@dataclass(frozen=True)
class ImageSize:
    text: int  # .isr_vector + .text + .ARM.exidx
    rodata: int
    data: int  # initialised RAM, also stored in flash
    bss: int
    stack: int  # the linker script's minimum-stack reservation
    sections: dict[str, int] = field(default_factory=dict)

    @property
    def flash_bytes(self) -> int:
        return self.text + self.rodata + self.data

    @property
    def ram_bytes(self) -> int:
        """Static RAM (.data + .bss), without the stack reservation."""
        return self.data + self.bss


def image_size(elf: Path) -> ImageSize:
    try:
        with open(elf, "rb") as f:
            sections = {
                s.name: (s["sh_type"], s["sh_flags"], s["sh_size"])
                for s in ELFFile(f).iter_sections()
                if s["sh_flags"] & SH_FLAGS.SHF_ALLOC and s["sh_size"] > 0
            }
    except OSError as e:
        raise IlwpError(f"cannot read firmware {elf}: {e.strerror}") from None
    text = rodata = data = bss = stack = 0
    for name, (kind, flags, size) in sections.items():
        if name == ".stack_reserve":
            stack += size
        elif kind == "SHT_NOBITS":
            bss += size
        elif flags & SH_FLAGS.SHF_WRITE:
            data += size
        elif flags & SH_FLAGS.SHF_EXECINSTR or name in (".isr_vector", ".ARM.exidx"):
            text += size
        else:
            rodata += size
    return ImageSize(text=text, rodata=rodata, data=data, bss=bss, stack=stack,
                     sections={n: s for n, (_, _, s) in sections.items()})

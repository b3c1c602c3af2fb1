# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""SCons build script of the offline `ilwp-cortexm` PlatformIO platform.

Compiler: arm-none-eabi-* from PATH (Debian's gcc-arm-none-eabi + libnewlib-arm-none-eabi).
Machine flags come from the board JSON (build.cpu, build.fpu); memory limits from
upload.maximum_size / upload.maximum_ram_size; the linker script from board_build.ldscript.
Upload protocols: qemu (runs qemu-system-arm on the ELF; serial on stdio),
mbed (copies firmware.bin to the ST-LINK mass-storage drive given as upload_port),
stlink (st-flash, when installed).
"""

import os
import shutil

from SCons.Script import AlwaysBuild, Builder, Default, DefaultEnvironment  # noqa: F401

env = DefaultEnvironment()
board = env.BoardConfig()

PREFIX = "arm-none-eabi-"
env.Replace(
    AR=PREFIX + "gcc-ar",
    AS=PREFIX + "gcc",
    CC=PREFIX + "gcc",
    CXX=PREFIX + "g++",
    GDB=PREFIX + "gdb",
    OBJCOPY=PREFIX + "objcopy",
    RANLIB=PREFIX + "gcc-ranlib",
    SIZETOOL=PREFIX + "size",
    ARFLAGS=["rc"],
    PROGNAME="firmware",
    PROGSUFFIX=".elf",
    SIZEPROGREGEXP=r"^(?:\.isr_vector|\.text|\.rodata|\.ARM\.exidx|\.data)\s+(\d+).*",
    SIZEDATAREGEXP=r"^(?:\.data|\.bss)\s+(\d+).*",
    SIZECHECKCMD="$SIZETOOL -A -d $SOURCES",
    SIZEPRINTCMD="$SIZETOOL -B -d $SOURCES",
)

machine = ["-mcpu=%s" % board.get("build.cpu"), "-mthumb"]
fpu = board.get("build.fpu", "")
machine += ["-mfloat-abi=hard", "-mfpu=%s" % fpu] if fpu else ["-mfloat-abi=soft"]

env.Append(
    ASFLAGS=machine,
    ASPPFLAGS=["-x", "assembler-with-cpp"],
    CFLAGS=["-std=c99"],
    CCFLAGS=machine + [
        "-O2",  # a -O in build_flags comes later and wins
        "-g",
        "-ffunction-sections",
        "-fdata-sections",
        "-fno-common",
        "-Wall",
        "-Wextra",
        "-Werror",
    ],
    LINKFLAGS=machine + [
        "-nostartfiles",
        "--specs=nano.specs",
        "-Wl,--gc-sections",
        "-Wl,-Map,${BUILD_DIR}/${PROGNAME}.map",
    ],
    LIBS=["gcc"],
)

env.Append(
    BUILDERS=dict(
        ElfToBin=Builder(
            action=env.VerboseAction("$OBJCOPY -O binary $SOURCES $TARGET", "Building $TARGET"),
            suffix=".bin",
        )
    )
)

target_elf = env.BuildProgram()
target_bin = env.ElfToBin(os.path.join("$BUILD_DIR", "${PROGNAME}"), target_elf)
env.Depends(target_bin, "checkprogsize")
target_buildprog = env.Alias("buildprog", target_bin, target_bin)

target_size = env.AddPlatformTarget(
    "size", target_elf, env.VerboseAction("$SIZEPRINTCMD", "Calculating size $SOURCE"), "Program Size"
)

protocol = env.subst("$UPLOAD_PROTOCOL") or board.get("upload.protocol", "")

if protocol == "qemu":
    qemu_machine = board.get("upload.qemu_machine")
    env.Replace(
        UPLOADER="qemu-system-arm",
        UPLOADERFLAGS=[
            "-M", qemu_machine,
            "-icount", "shift=0",
            "-semihosting-config", "enable=on,target=native",
            "-display", "none",
            "-monitor", "none",
            "-serial", "stdio",
        ],
        UPLOADCMD="$UPLOADER $UPLOADERFLAGS -kernel $SOURCE",
    )
    upload_source = target_elf
    upload_actions = [env.VerboseAction("$UPLOADCMD", "Running $SOURCE on QEMU %s" % qemu_machine)]
elif protocol == "stlink":
    env.Replace(
        UPLOADER="st-flash",
        UPLOADERFLAGS=["--reset", "write"],
        UPLOADCMD='$UPLOADER $UPLOADERFLAGS "$SOURCE" %s' % board.get("upload.flash_origin"),
    )
    upload_source = target_bin
    upload_actions = [env.VerboseAction("$UPLOADCMD", "Flashing $SOURCE with st-flash")]
elif protocol == "mbed":

    def copy_to_drive(target, source, env):  # noqa: ARG001 (SCons action signature)
        drive = env.subst("$UPLOAD_PORT")
        if not drive or not os.path.isdir(drive):
            print("Error: set upload_port to the NUCLEO's mounted ST-LINK drive (e.g. /media/$USER/NODE_F746ZG)")
            return 1
        shutil.copyfile(source[0].get_abspath(), os.path.join(drive, os.path.basename(source[0].get_abspath())))
        return 0

    upload_source = target_bin
    upload_actions = [env.VerboseAction(copy_to_drive, "Copying $SOURCE to $UPLOAD_PORT")]
else:
    upload_source = target_elf
    upload_actions = [env.VerboseAction("echo 'unknown upload_protocol %s' && false" % protocol, "Upload")]

AlwaysBuild(env.AddPlatformTarget("upload", upload_source, upload_actions, "Upload"))

Default([target_buildprog, target_size])

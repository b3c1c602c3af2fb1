# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""The one exception type users see: its message is printed as a single line, exit code 2."""


class IlwpError(Exception):
    """A problem with the user's input or environment, described in one line."""

    exit_code = 2


def cause(e: BaseException) -> str:
    """`Type: message` of an exception on one line, whole: the cause is often at its end."""
    text = " ".join(line.strip() for line in str(e).splitlines() if line.strip())
    return f"{type(e).__name__}: {text}" if text else type(e).__name__

"""The one exception type users see: its message is printed as a single line, exit code 2."""


class IlwpError(Exception):
    """A problem with the user's input or environment, described in one line."""

    exit_code = 2

# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
"""Licence: a LICENSE at the root (Apache-2.0, as pyproject.toml says) and an SPDX line in every
source file of the project's own; third-party notices never enter the repository."""

from __future__ import annotations

import subprocess

from conftest import REPO
from helpers import OWN_COPYRIGHT, third_party_notices

LICENSE_ID = "SPDX-License-Identifier: Apache-2.0"
SOURCE_SUFFIXES = (".py", ".c", ".h", ".j2", ".sh", ".ld")


def project_sources() -> list:
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    paths = [REPO / f for f in files]
    return [p for p in paths if p.is_file() and (p.suffix in SOURCE_SUFFIXES or p.name == "Makefile")]


def test_licence_file_is_apache_2_as_pyproject_says():
    assert "Apache License" in (REPO / "LICENSE").read_text() and "Version 2.0" in (REPO / "LICENSE").read_text()
    assert 'license = { text = "Apache-2.0" }' in (REPO / "pyproject.toml").read_text()


def test_every_project_source_carries_the_spdx_lines():
    sources = project_sources()
    assert len(sources) > 100
    missing = [str(p.relative_to(REPO)) for p in sources
               if LICENSE_ID not in "".join(p.read_text().splitlines(keepends=True)[:4])]
    assert missing == []


def test_no_third_party_notice_in_the_sources():
    rule = {REPO / "tests" / "helpers.py", REPO / "tests" / "test_licence.py"}  # they state the rule
    assert [str(p.relative_to(REPO)) for p in project_sources()
            if p not in rule and third_party_notices(p.read_text())] == []


def test_a_third_party_notice_is_told_from_ours():
    assert third_party_notices(f"/* {OWN_COPYRIGHT} */\n/* {LICENSE_ID} */\n") == []
    # a foreign notice, assembled so that this file carries none itself
    assert third_party_notices(" * " + "Copy" + "right (C) 2010-2023 Another Vendor Ltd.\n")

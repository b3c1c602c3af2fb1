# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
from ilwp_embedded.cli import main

raise SystemExit(main())

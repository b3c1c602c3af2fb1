from ilwp_embedded.cli import main

raise SystemExit(main())

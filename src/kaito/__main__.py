from kaito.cli import main

raise SystemExit(main())

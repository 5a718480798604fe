"""Allow ``python -m kaito_runtime``."""

from kaito_runtime.cli import main

raise SystemExit(main())

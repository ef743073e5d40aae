"""`python -m liveswitch_sandbox serve ...`."""

from liveswitch_sandbox.cli import main

raise SystemExit(main())

"""python -m bot: the same as the accessbot command."""

from bot.cli import main

raise SystemExit(main())

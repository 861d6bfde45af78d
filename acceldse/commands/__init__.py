"""CLI sub-commands. Each module defines ``add_parser(subparsers)`` which registers one
sub-command whose ``func(args) -> int`` is set with ``set_defaults(func=...)``.

To add a command: write ``acceldse/commands/<name>.py`` and append its module name here.
"""

COMMANDS: list[str] = ["simulate", "list", "stream", "fpga", "tiers", "map", "sweep", "results", "plot", "explore",
                       "proxy", "attention", "validate"]

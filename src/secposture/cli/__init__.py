"""The `secposture` command line: `main.py` is the command group, `common.py` what every command
shares, and each other module one command (or group of commands) that `main.py` imports only when
it runs. Nothing outside this package imports from it.
"""

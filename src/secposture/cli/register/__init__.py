"""The register's commands, one module a command group; `common.py` is what they share."""

"""Probes: small questions over facts, each in a folder with its definition (def.toml) and code."""

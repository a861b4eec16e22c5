"""Files in other repositories that a repository's CI and hooks reference (ADR 0014)."""

"""Sources: where a repository is read from. Each produces a Snapshot."""

"""Reports: a ScanReport rendered for a terminal, a machine, a code-scanning service or a person."""

"""Facts: parsed, validated views of a snapshot, computed once and only when a probe asks."""

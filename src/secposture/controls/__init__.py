"""Controls: the policy that turns probe findings into one status per control."""

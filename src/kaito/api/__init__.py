"""kaito's typed API layer: Workspace, NodeClaim, Machine and the built-in kinds kaito touches."""

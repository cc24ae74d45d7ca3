"""Partners: registration, workspaces, setup, managers and help."""

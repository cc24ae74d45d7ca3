"""The development tools: the text rendering of Block Kit that the shell shows."""

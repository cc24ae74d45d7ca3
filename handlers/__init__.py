"""Transport: Slack listeners and HTTP routes, one module per feature, each with register()."""

"""Partner workspaces: registering a partner, linking a Slack workspace to it, setting it up from
Slack, and /partnerbot help."""

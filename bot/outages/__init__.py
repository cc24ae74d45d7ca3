"""Outage alerts: incident intake, who is affected, availability and credits, apology texts."""

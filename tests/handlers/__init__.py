"""Unit tests of the thin Slack listeners and routes: fake ack, respond and client, a real database."""

"""Test helpers shared by the whole suite: data factories, Slack limit checks, a bot on a
loopback port, incidents as Microsoft sends them, and real serve processes."""

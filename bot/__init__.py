"""partnerbot: a Slack bot for channel partners of an online productivity suite."""

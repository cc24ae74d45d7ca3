"""Live subscriptions from a partner's Partner Center: the connection, its tokens, the sync."""

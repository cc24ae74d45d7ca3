"""/subscription: the money and commission rules, the look-up of a customer, and its answers."""

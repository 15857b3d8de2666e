"""MCR — manage customer relationships: accounts, contacts, the 360° view, merges."""

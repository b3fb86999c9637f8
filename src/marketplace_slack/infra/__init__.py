"""Infrastructure the rest is built on: the clock, logging, background tasks, the token vault."""

"""Slack side: ids, pure card renderers, listeners and the messenger."""

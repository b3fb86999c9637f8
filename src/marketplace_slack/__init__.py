"""marketplace-slack: Immuta Marketplace access requests, reviewed in Slack."""

__version__ = "0.1.0"

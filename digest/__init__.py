"""digest: feeds to stories to Quick Looks to Slack or email, with a local model."""

__version__ = "0.1.0"

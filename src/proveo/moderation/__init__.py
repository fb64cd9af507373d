"""Images held for an admin's decision (NSFW score between the accept and reject thresholds)."""

"""Keeping current: the release sensor (and a fallback schedule) that request runs for new and revised months;
its decisions are plain functions in ``releases``."""

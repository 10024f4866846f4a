"""Stages 4-5, transform: the dbt project as assets (staging -> intermediate -> marts), the dbt resource and its
guard; the coverage check."""

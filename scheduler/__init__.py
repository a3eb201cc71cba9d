"""The second entry into the core: the clock instead of a user (reminders, pushed summaries)."""

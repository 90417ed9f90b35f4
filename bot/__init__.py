"""Slack at the edge: the Bolt app, HTTP and Socket Mode adapters, the console, scheduling."""

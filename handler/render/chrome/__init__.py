"""Headless Chrome: the process, the DevTools connection, and the page that captures frames."""

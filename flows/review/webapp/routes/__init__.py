"""The workspace's routes, one router per resource (main.py includes them all)."""

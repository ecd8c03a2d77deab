"""The one path for every message: the conversation service, its ports, simulation."""

"""Settings, database and migrations, privacy, clock, concurrency: what every part may use."""

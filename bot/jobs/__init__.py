"""Background work: the worker's jobs and the in-process schedules."""

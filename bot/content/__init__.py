"""Where flows and their translations come from, loaded and validated as one published set."""

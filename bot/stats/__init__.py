"""Statistics: every figure the hotline shows about itself, and the small-cell suppression that
every figure about people and cases passes through (``bot.stats.suppression``) — here and
nowhere else."""

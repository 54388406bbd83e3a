"""Studies that compose measures and tasks into reports."""

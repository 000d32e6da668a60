"""The scheduler's side of a run: planning, backends, cores, the image."""

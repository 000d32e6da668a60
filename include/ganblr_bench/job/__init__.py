"""What runs inside a job's container or process: the runner, the generators, preparation, measuring."""

"""Scale-out on existing engines: torch distributed for training, Ray for capture. Imports nothing heavy."""

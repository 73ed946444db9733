"""The trio runtime: executes the core's effects and feeds what happens back as inputs."""

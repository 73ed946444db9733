"""The deterministic simulator: the real ``pysentinel.core`` against simulated Redis,
network, clients and faults."""

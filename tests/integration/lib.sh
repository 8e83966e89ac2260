# shared helpers for integration tests (TAP)

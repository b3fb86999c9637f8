"""A working stand-in for the Marketplace API, for tests, benchmarks and the demo."""

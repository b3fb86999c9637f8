"""Stand-ins for the services marketplace-slack talks to, for tests, the demo and the benchmarks.

`sandbox/` is a working Immuta Marketplace, `fakeslack/` a Slack Web API and interaction sender, and
`stage.py` puts both beside the app on loopback. This package imports the product; the product never
imports it (the CLI loads it lazily for `sandbox` and `demo`).
"""

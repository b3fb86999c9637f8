"""The workflow: what happens to a request, decided here and delivered through the ports it declares."""

"""The use cases of the requests service, one module per concern."""

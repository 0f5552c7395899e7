"""Use cases of the identity service, one module per use case.

Use cases only flush: the request dependency or the consumer loop owns the
transaction (STYLE.md habit 4).
"""

"""Request and response models of the HTTP API, one module per resource.

They are kept apart from the ORM models (``langorch.store.models``): a schema says what
the wire carries, a model says what the database stores.
"""

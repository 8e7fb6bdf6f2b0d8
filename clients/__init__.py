"""placecode reference clients."""

if __name__ != "placecode.clients":
    # Importing the folder under its bare name would load a second copy of every
    # class, and shadow the distribution of that name on PyPI.
    raise ImportError(f"import placecode.clients, not {__name__}")

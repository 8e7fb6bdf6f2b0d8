"""placecode reference clients."""

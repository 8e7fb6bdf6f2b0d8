"""placecode exposure service."""

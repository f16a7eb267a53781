"""accessbot: walks lab members through credentialed data access (MIMIC-CXR first)."""

__version__ = "0.1.0"

"""dvx: git-native data version control, validation and drift for ML datasets."""
__version__ = "0.1.0"

"""microforge: put a quantized TFLite model on a microcontroller and prove it runs there."""

__version__ = "0.1.0"

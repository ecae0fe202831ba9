"""The local embedded default: emulated AWS (moto) running the project's own handlers."""

"""gladia: live and file transcription from the terminal with Gladia's speech-to-text API."""

__version__ = "0.1.0"

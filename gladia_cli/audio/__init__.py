"""Audio in: microphone capture, audio files, and the PCM format both must match."""

"""The live pipeline: the POST /v2/live body, the WebSocket session, and one run end to end."""

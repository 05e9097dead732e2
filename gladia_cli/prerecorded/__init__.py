"""The pre-recorded pipeline: the POST /v2/pre-recorded body, the API client, one job and many."""

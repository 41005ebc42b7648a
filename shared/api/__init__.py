"""The HTTP API's pure parts: parameters, problems, cursors, caching, CORS, OpenAPI, responses.

Nothing here imports the Functions SDK: `functions/api.py` turns an `ApiResponse` into an
`HttpResponse`, so every rule is testable without HTTP.
"""

"""`serve`'s parts: the model (`models`), request bodies (`payloads`), users' inference
handlers (`handlers`) and the HTTP/1.1 server on asyncio (`server`).

The entry point is `studio_toolkit.serve:main`; docs/images.md ("Serving") is the contract.
"""

"""Keep the server's token out of what the browser receives, without buffering bodies.

JupyterLab writes its server's token into the page config of every page it renders (whatever
the request authenticated with). The proxy masks it with a placeholder of the same length, so
Content-Length stays true and bodies still stream; the browser's copy of the placeholder is
harmless, since the proxy drops any token a client sends and adds the real one itself.
"""


class TokenScrubber:
    """Masks `token` in a byte stream that arrives in arbitrary chunks."""

    def __init__(self, token: str):
        self.token = token.encode()
        self.mask = b"*" * len(self.token)
        self.held = b""

    def feed(self, chunk: bytes) -> bytes:
        """The masked bytes that can go out now; a tail that could begin the token is held."""
        data = (self.held + chunk).replace(self.token, self.mask)
        keep = self._partial_tail(data)
        self.held = data[len(data) - keep :]
        return data[: len(data) - keep]

    def flush(self) -> bytes:
        """What is still held, at the end of the stream (it was not the token)."""
        held, self.held = self.held, b""
        return held

    def _partial_tail(self, data: bytes) -> int:
        """Length of the longest suffix of `data` that is a proper prefix of the token."""
        for size in range(min(len(self.token) - 1, len(data)), 0, -1):
            if data.endswith(self.token[:size]):
                return size
        return 0

    def header_value(self, value: bytes) -> bytes:
        return value.replace(self.token, self.mask)

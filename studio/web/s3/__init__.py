"""Studio's S3-compatible endpoint over the artifact store (docs/s3.md).

`views.dispatch` is where every request signed for `s3` arrives (studio/web/api/middleware.py);
`auth` checks its signature (SigV4 header or query, SigV2 query) and `body` checks its body as
it streams in; `access` decides whose the bucket is and asks the caller's policy; `buckets`,
`objects` and `multipart` serve one S3 action a function; `xml` writes S3's answers and
errors; `presign` makes links for the dashboard.
"""

"""Studio's S3-compatible endpoint over the artifact store (docs/s3.md).

`views.dispatch` is where every request signed for `s3` arrives (studio/web/api/middleware.py);
`auth` checks its signature and yields its body as it streams in; `buckets`, `objects` and
`multipart` are the service functions, one per S3 action, each checking the caller's policy;
`xml` writes S3's answers and errors.
"""

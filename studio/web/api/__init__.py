"""SageMaker's API: JSON over HTTP POST with an `X-Amz-Target: SageMaker.<Operation>` header,
signed with SigV4 by an access key of a user profile, as boto3 sends it.

`sigv4` checks signatures, `auth` finds the key and its profile, `registry` holds the
operations, `views` answers requests; each resource's operations live in a module of their own.
"""

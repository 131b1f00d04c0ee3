"""Studio's training toolkit for the sklearn image, following SageMaker's container contract.

`train` (see `studio_toolkit.train`) runs either a user's script (script mode, as the SageMaker
Python SDK's SKLearn estimator starts it) or a built-in algorithm (`STUDIO_BUILTIN_ALGORITHM`).
"""

__version__ = "0.1.0"

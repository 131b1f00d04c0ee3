"""The one exception type whose message is shown to the user as the job's failure reason."""


class UserError(Exception):
    """A problem with the job's input (hyperparameters, data, code) that the user can fix.

    Its message becomes `/opt/ml/output/failure`, so it names what is wrong and where;
    `exit_code` is the container's exit code (a failed script's own code, for example).
    """

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code

"""Errors a user can act on. The command line prints them without a traceback and exits 2."""


class SecpostureError(Exception):
    """A usage or input error: bad arguments, an invalid policy file, a missing folder."""


class PolicyError(SecpostureError):
    """The policy file is invalid; the message names the file and the key."""

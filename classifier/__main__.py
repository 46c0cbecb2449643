"""``python -m classifier``: the same command line as ``classifier``."""
from .cli import app

app(prog_name="classifier")

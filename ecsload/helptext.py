"""The rows of --help's tables (exit codes, environment), wrapped at 79 columns."""

import textwrap


def help_row(label: str, text: str) -> str:
    """`  LABEL  text`, the text wrapped under itself; an option such as --fail-on-regression
    is never split at its hyphens."""
    indent = f"  {label}  "
    return textwrap.fill(
        text,
        width=79,
        initial_indent=indent,
        subsequent_indent=" " * len(indent),
        break_on_hyphens=False,
    )

"""`python -m eif_xlsx ...`: the same command as `eif-xlsx ...` (for when the script is not on PATH)."""

from eif_xlsx import command

if __name__ == "__main__":  # not when a spawned worker process loads this module as its parent's main
    command()

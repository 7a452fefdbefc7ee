"""Mutants of ``tools/mutate.py`` that cannot change behaviour, each with the reason.

One row per mutant: (path, the mutated line as it reads, stripped, original token, replacement,
reason). Matched by the line's text, not its number, so that edits elsewhere in a file keep the
table valid. A listed mutant is still run; if a test kills it, the report shows an error of this
list (the reason was wrong).
"""

EQUIVALENT = [
]

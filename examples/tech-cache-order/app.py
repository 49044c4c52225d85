"""A stand-in for a service's source: the page edits the greeting line between two builds."""

GREETING = "hello from ch09"

print(GREETING)

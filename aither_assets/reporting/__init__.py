"""Reading back what the pipeline produced for a PR: runs, materializations, checks, history."""

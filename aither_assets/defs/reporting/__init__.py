"""pr_dashboard and pr_feedback: what a PR run shows people, on pages and on GitHub."""

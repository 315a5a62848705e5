"""What we decide about a pull request, from GitHub facts alone: filters, file groups, plan, polling."""

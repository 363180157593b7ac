"""The Slack connector: Block Kit rendering of replies and reading of what learners type in Slack."""

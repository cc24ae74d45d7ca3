"""Development tools: a local Slack-compatible Web API, signed Slack requests and a text
rendering of Block Kit, used by the shell, the tests and the benchmarks."""

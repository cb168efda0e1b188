"""The plan: every setting declared (setting_rows), resolved (resolve), checked across
(checks, distribution, newrelic_agent) before anything starts. ecsload.commands.plan
is its command.
"""

"""What runs inside Locust: the level (options, request budget, roles, samples) and the users.

locustfile.py installs it (`level.install(events)`) and builds its users on
`users.ECSUser`.
"""

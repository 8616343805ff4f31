"""Things that start runs by themselves: schedule arithmetic (cron, RRULE, one-off), the
leader lease every singleton loop runs under, and the loops that fire triggers."""

"""`accessbot init`: an interactive set-up in the terminal, scriptable with --yes and flags.

    ask.py      questions with defaults (a terminal, a pipe, or none at all with --yes)
    files.py    .env (0600) and the lab's rules.yaml, edited line by line so comments stay
    wizard.py   the flow: which platform, its conversation, the files, then `doctor`

Each platform's own conversation (tokens checked live, channels, people) lives in its package:
bot/adapters/slack/wizard.py, bot/adapters/discord/wizard.py. They speak plain HTTPS (urllib):
no platform library is needed to set up.
"""

"""The Discord frontend: a `commands.Bot` with cogs over an `AnswerService`. The core never imports this."""

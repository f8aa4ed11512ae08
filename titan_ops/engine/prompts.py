"""``vars_prompt``: a play's variables asked of the operator, all at the start of the run.

Every prompt of every play is answered before any host is touched: by ``-e`` when it gives the
variable, else by the operator through ``ask`` (the command line's terminal prompt). Without a way to
ask (no terminal, or a library call that passes none), a prompt's ``default`` is its answer, as
ansible-playbook does; a prompt without one is an error naming it. A private answer (the default) is a
secret from then on. Answers are data: never rendered as templates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from titan_ops.errors import PlaybookError
from titan_ops.playbook.model import Playbook, VarPrompt

Ask = Callable[[VarPrompt], str]
"""Asks the operator one prompt (confirming it when the prompt says so); returns the answer."""


def answer_prompts(playbook: Playbook, extra_vars: Mapping[str, Any], ask: Ask | None,
                   secrets: Callable[[list[str]], None]) -> list[dict[str, Any]]:
    """The answers of each play's prompts (a mapping per play, in order)."""
    answers = []
    for play in playbook.plays:
        found: dict[str, Any] = {}
        for prompt in play.vars_prompt:
            if prompt.name in extra_vars:
                continue
            if ask is not None:
                found[prompt.name] = ask(prompt)
            elif prompt.default is not None:
                found[prompt.name] = prompt.default
            else:
                raise PlaybookError(f"vars_prompt '{prompt.name}' needs a terminal to ask on (or give it with "
                                    f"-e {prompt.name}=...)", prompt.location, "vars_prompt")
            if prompt.private and isinstance(found[prompt.name], str):
                secrets([found[prompt.name]])
        answers.append(found)
    return answers

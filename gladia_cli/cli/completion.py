"""Shell completion: the scripts `gladia completion SHELL` prints, generated from the command tree.

A Tab press must not start Python (~160 ms): the scripts carry the commands, options and fixed values (language
codes, formats, encodings, models...) and only `--device` runs `gladia devices`, because device names change. They
are generated from the Typer app's command tree and the value lists below, so they cannot drift from the CLI.

The Python-side answers (`$_GLADIA_COMPLETE`, Typer's protocol) stay for scripts installed by earlier versions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gladia_cli.audio.format import ENCODINGS
from gladia_cli.body import FILE_MODELS, SUMMARY_TYPES

if TYPE_CHECKING:
    from gladia_cli.cli import typer_seam
    from gladia_cli.cli.typer_seam import Param

SHELLS = ("bash", "zsh", "fish")


def complete_languages(incomplete: str, *, translation: bool = False) -> list[tuple[str, str]]:
    """Codes with their names, from the list the option accepts (transcription or translation targets); after a
    comma (`en,f`) completes the last code of the list."""
    from gladia_cli import languages

    codes = languages.TRANSLATION if translation else languages.TRANSCRIPTION
    head, _, last = incomplete.rpartition(",")
    prefix = head + "," if head else ""
    return [(prefix + c, languages.name(c)) for c in codes if c.startswith(last)]


# What a Tab press shows beside a value; the values themselves are the lists the library validates against.
VALUE_HELP = {
    "wav/pcm": "16/24/32-bit PCM",
    "wav/alaw": "8-bit G.711 A-law",
    "wav/ulaw": "8-bit G.711 mu-law",
    "solaria-1": "live and files",
    "solaria-3": "files: en, fr, de, es, it",
    "solaria-fusion": "files",
}
CHOICES: dict[str, tuple[tuple[str, str], ...]] = {
    option: tuple((value, VALUE_HELP.get(value, "")) for value in values)
    for option, values in (("--encoding", ENCODINGS), ("--model", FILE_MODELS), ("--summary-type", SUMMARY_TYPES))
}


def complete_choice(option: str, incomplete: str) -> list[tuple[str, str]]:
    return [(value, help_text) for value, help_text in CHOICES[option] if value.startswith(incomplete)]


def complete_device(incomplete: str) -> list[tuple[str, str]]:
    try:
        from gladia_cli.audio.devices import list_inputs

        devices = list_inputs()
    except Exception:  # completion must never print an error into the user's prompt
        return []
    return [
        (d.name, f"{d.max_input_channels} ch, {d.hostapi}")
        for d in devices
        if d.name.lower().startswith(incomplete.lower())
    ]


# --- the command tree, as the scripts need it ------------------------------------------------------------------------

Words = tuple[tuple[str, str], ...]  # (value, description)
FILES, DEVICES, NOTHING, WORDS = "files", "devices", "nothing", "words"
COMMA_LISTS = frozenset({"--lang", "--translate"})  # `--lang en,f` completes the code after the last comma


@dataclass(frozen=True)
class Option:
    names: tuple[str, ...]
    help: str
    value: str | None  # None: a flag; else FILES, DEVICES, NOTHING (free text, numbers) or WORDS
    words: Words = ()


@dataclass(frozen=True)
class Command:
    path: str  # "" for gladia itself, "listen", "auth set"
    help: str
    options: tuple[Option, ...]
    subcommands: Words = ()
    arguments: str = NOTHING  # what positional arguments complete to: FILES, NOTHING or WORDS
    argument_words: Words = ()


def _short(text: str | None) -> str:
    """The first sentence of a help text, on one line: what a menu of candidates has room for. A sentence ends at a
    period after a word, not at an abbreviation's ("e.g. en,fr" stays whole)."""
    text = " ".join((text or "").split())
    text = re.split(r"(?<=[a-z0-9)])(?<!\be\.g)(?<!\bi\.e)(?<!\betc)\. |: `", text, maxsplit=1)[0].rstrip(".")
    return text if len(text) <= 70 else text[:67].rstrip() + "..."


def _languages(translation: bool) -> Words:
    from gladia_cli import languages

    return tuple(
        (code, languages.name(code)) for code in (languages.TRANSLATION if translation else languages.TRANSCRIPTION)
    )


def _value_lists() -> dict[str, Words]:
    return {"--lang": _languages(False), "--translate": _languages(True), **CHOICES}


def _kind(param: Param, lists: dict[str, Words]) -> tuple[str, Words]:
    name = next((o for o in param.opts if o in lists or o == "--device"), None)
    if name == "--device":
        return DEVICES, ()
    if name is not None:
        return WORDS, lists[name]
    if param.choices:
        return WORDS, tuple((choice, "") for choice in param.choices)
    if param.value_type is Path or "FILE" in param.metavar:
        return FILES, ()
    return NOTHING, ()


def _with_aliases(names: tuple[str, ...]) -> tuple[str, ...]:
    """An option's names and the spellings `process` maps onto it (`--cs`), which its declaration leaves out."""
    from gladia_cli.cli.flags import SHORT_ALIASES

    return (*names, *(alias for alias, target in SHORT_ALIASES.items() if target in names))


def commands(root: typer_seam.Command) -> list[Command]:
    """Every command and group of the CLI, walked from the tree Typer builds (the one that parses argv), handed in
    by the `completion` command that owns the app."""
    lists = _value_lists()
    found: list[Command] = []

    def walk(command: typer_seam.Command) -> None:
        options: list[Option] = [Option(root.help_names, "Show this help.", None)]
        arguments: str = NOTHING
        argument_words: Words = ()
        for param in command.params:
            if param.hidden:
                continue
            if not param.is_option:
                arguments, argument_words = _kind(param, lists)
                continue
            help_text = _short(param.help)
            if param.is_flag or param.is_counter:
                options.append(Option(_with_aliases(param.opts), help_text, None))
                if param.secondary_opts:
                    options.append(Option(param.secondary_opts, help_text, None))
                continue
            kind, words = _kind(param, lists)
            options.append(Option(_with_aliases(param.opts), help_text, kind, words))
        visible = {name: sub for name, sub in command.subcommands.items() if not sub.hidden}
        found.append(
            Command(
                command.path,
                _short(command.help),
                tuple(options),
                tuple((name, _short(sub.help)) for name, sub in visible.items()),
                arguments,
                argument_words,
            )
        )
        for sub in visible.values():
            walk(sub)

    walk(root)
    return found


def script(shell: str, root: typer_seam.Command) -> str:
    render = {"bash": _bash, "zsh": _zsh, "fish": _fish}[shell]
    return render(commands(root)).rstrip("\n")


HEADER = (
    "# {shell} completion for gladia, generated by `gladia completion {shell}` from the CLI itself: do not edit.\n"
    "# Commands, options and fixed values are listed here, so a Tab press runs no Python; only --device values\n"
    "# (device names change) come from `gladia devices`.\n"
)


def _sh(text: str) -> str:
    """A single-quoted word for bash and zsh."""
    return "'" + text.replace("'", "'\\''") + "'"


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _lists(cmds: list[Command]) -> dict[Words, str]:
    """A variable name for each distinct list of words (`output` and `output_2` when two -o differ)."""
    names: dict[Words, str] = {}
    for cmd in cmds:
        entries = [(o.names[0], o.words) for o in cmd.options if o.words]
        if cmd.argument_words:
            entries.append((f"args_{cmd.path.replace(' ', '_') or 'root'}", cmd.argument_words))
        for first, words in entries:
            if words in names:
                continue
            base = first.lstrip("-").replace("-", "_") + ("_comma" if first in COMMA_LISTS else "")
            name, n = base, 1
            while name in names.values():
                n += 1
                name = f"{base}_{n}"
            names[words] = name
    return names


def _value_options(cmds: list[Command]) -> dict[tuple[str, Words], list[tuple[str, str]]]:
    """(kind, words) -> [(command path, option name)]: the scripts handle each value list once."""
    groups: dict[tuple[str, Words], list[tuple[str, str]]] = {}
    for cmd in cmds:
        for option in cmd.options:
            if option.value is not None:
                groups.setdefault((option.value, option.words), []).extend((cmd.path, n) for n in option.names)
    return groups


def _groups(cmds: list[Command]) -> list[str]:
    return [c.path for c in cmds if c.subcommands and c.path]


# --- bash ----------------------------------------------------------------------------------------------------------


def _bash(cmds: list[Command]) -> str:
    out = [HEADER.format(shell="bash")]
    groups = _value_options(cmds)
    lists = _lists(cmds)
    for words, list_name in lists.items():
        out.append(f"_gladia_{list_name}={_sh(' '.join(v for v, _ in words))}\n")
    out.append(
        """
_gladia_add() {  # prefix kept, word being completed, candidates: no subshell, no fork
    local head=$1 cur=$2 w
    shift 2
    for w; do [[ $w == "$cur"* ]] && COMPREPLY+=("$head$w"); done
}

_gladia_devices() {  # the one list that changes: ask gladia (piped, `gladia devices` prints tab-separated rows)
    local line q IFS=$'\\n'
    for line in $("$1" devices 2>/dev/null); do
        line=${line#*$'\\t'}; line=${line#*$'\\t'}; line=${line%%$'\\t'*}
        [[ $line == "$2"* ]] || continue
        printf -v q %q "$line"
        COMPREPLY+=("$q")
    done
}

_gladia_completion() {
    local IFS=$' \\t\\n' cur=${COMP_WORDS[COMP_CWORD]} prev="" cmd="" head="" i w
    (( COMP_CWORD > 0 )) && prev=${COMP_WORDS[COMP_CWORD-1]}
    # --opt=value: bash splits it at "=" (COMP_WORDBREAKS) into --opt, =, value; without that split it is one word
    if [[ $cur == "=" ]]; then cur=""; elif [[ $prev == "=" ]]; then prev=${COMP_WORDS[COMP_CWORD-2]}
    elif [[ $cur == --*=* ]]; then prev=${cur%%=*}; head=$prev=; cur=${cur#*=}; fi
    COMPREPLY=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        [[ $w == -* ]] && continue
        case $cmd in
"""
    )
    out.append('            "") cmd=$w ;;\n')
    for group in _groups(cmds):
        out.append(f'            {_sh(group)}) cmd="$cmd $w" ;;\n')
    out.append("            *) break ;;\n        esac\n    done\n")
    out.append('    case "$cmd|$prev" in\n')
    for (kind, words), pairs in groups.items():
        list_name = lists.get(words, "")
        patterns = "|".join(_sh(f"{path}|{name}") for path, name in pairs)
        if kind == WORDS:
            if list_name.endswith("_comma"):
                action = (
                    "[[ $cur == *,* ]] && head+=${cur%,*}, && cur=${cur##*,}; "
                    f'_gladia_add "$head" "$cur" ${{_gladia_{list_name}}}'
                )
            else:
                action = f'_gladia_add "$head" "$cur" ${{_gladia_{list_name}}}'
        elif kind == DEVICES:
            action = '_gladia_devices "$1" "$cur"'
        elif kind == FILES:
            action = "compopt -o default 2>/dev/null"
        else:
            action = ":"
        out.append(f"        {patterns})\n            {action}; return 0 ;;\n")
    out.append("    esac\n    if [[ $cur == -* ]]; then\n        case $cmd in\n")
    for cmd in cmds:
        names = " ".join(n for o in cmd.options for n in o.names)
        out.append(f'            {_sh(cmd.path)}) _gladia_add "" "$cur" {names} ;;\n')
    out.append("        esac\n        return 0\n    fi\n    case $cmd in\n")
    for cmd in cmds:
        if cmd.subcommands:
            action = '_gladia_add "" "$cur" ' + " ".join(n for n, _ in cmd.subcommands)
        elif cmd.arguments == WORDS:
            action = f'_gladia_add "" "$cur" ${{_gladia_{lists[cmd.argument_words]}}}'
        elif cmd.arguments == FILES:
            action = "compopt -o default 2>/dev/null"
        else:
            continue
        out.append(f"        {_sh(cmd.path)}) {action} ;;\n")
    out.append("    esac\n    return 0\n}\n\ncomplete -F _gladia_completion gladia\n")
    return "".join(out)


# --- zsh -----------------------------------------------------------------------------------------------------------


def _zsh_items(words: Words) -> str:
    """`_describe` entries: value:description (a colon inside the value escaped)."""
    return " ".join(_sh(v.replace(":", "\\:") + (f":{d}" if d else "")) for v, d in words)


def _zsh(cmds: list[Command]) -> str:
    out = ["#compdef gladia\n", HEADER.format(shell="zsh")]
    groups = _value_options(cmds)
    lists = _lists(cmds)
    for words, list_name in lists.items():
        out.append(f"_gladia_{list_name}=({_zsh_items(words)})\n")
    out.append(
        """
_gladia_devices() {  # the one list that changes: ask gladia (piped, `gladia devices` prints tab-separated rows)
    local line
    local -a names cols
    for line in ${(f)"$($1 devices 2>/dev/null)"}; do
        cols=("${(@ps:\\t:)line}")  # (@) and quotes keep empty fields: the default column is empty on most rows
        names+=("${cols[3]}")
    done
    compadd -a names
}

_gladia_completion() {
    local cur=${words[CURRENT]} prev=${words[CURRENT-1]} cmd="" i w
    for ((i = 2; i < CURRENT; i++)); do
        w=${words[i]}
        [[ $w == -* ]] && continue
        case $cmd in
"""
    )
    out.append('            "") cmd=$w ;;\n')
    for group in _groups(cmds):
        out.append(f'            {_sh(group)}) cmd="$cmd $w" ;;\n')
    out.append("            *) break ;;\n        esac\n    done\n")
    out.append("    if [[ $cur == --*=* ]]; then prev=${cur%%=*}; compset -P '*='; fi\n")
    out.append('    case "$cmd|$prev" in\n')
    for (kind, words), pairs in groups.items():
        list_name = lists.get(words, "")
        patterns = "|".join(_sh(f"{path}|{name}") for path, name in pairs)
        if kind == WORDS:
            comma = "compset -P '*,'; " if list_name.endswith("_comma") else ""
            action = f"{comma}_describe -t values value _gladia_{list_name}"
        elif kind == DEVICES:
            action = "_gladia_devices ${words[1]}"
        elif kind == FILES:
            action = "_files"
        else:
            action = "return 1"
        out.append(f"        {patterns})\n            {action}; return ;;\n")
    out.append("    esac\n    local -a items\n    if [[ $cur == -* ]]; then\n        case $cmd in\n")
    for cmd in cmds:
        items = tuple((n, o.help) for o in cmd.options for n in o.names)
        out.append(f"            {_sh(cmd.path)}) items=({_zsh_items(items)}) ;;\n")
    out.append("        esac\n        _describe -t options option items\n        return\n    fi\n    case $cmd in\n")
    for cmd in cmds:
        if cmd.subcommands:
            action = f"items=({_zsh_items(cmd.subcommands)}); _describe -t commands command items"
        elif cmd.arguments == WORDS:
            action = f"_describe -t values value _gladia_{lists[cmd.argument_words]}"
        elif cmd.arguments == FILES:
            action = "_files"
        else:
            continue
        out.append(f"        {_sh(cmd.path)}) {action} ;;\n")
    out.append(
        """    esac
}

if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then
    _gladia_completion "$@"  # autoloaded from $fpath as _gladia: complete this very Tab press
else
    compdef _gladia_completion gladia
fi
"""
    )
    return "".join(out)


# --- fish ----------------------------------------------------------------------------------------------------------


def _fish_items(words: Words) -> str:
    return " ".join(_fish_quote(v + (f"\t{d}" if d else "")) for v, d in words)


def _fish(cmds: list[Command]) -> str:
    out = [HEADER.format(shell="fish")]
    groups = _value_options(cmds)
    lists = _lists(cmds)
    for words, list_name in lists.items():
        out.append(f"set -g __gladia_{list_name} {_fish_items(words)}\n")
    out.append(
        """
function __gladia_complete --description 'Candidates for the token under the cursor (fish builtins only)'
    set -l tokens (commandline -opc)
    set -l cur (commandline -ct)
    set -l prev $tokens[-1]
    set -l cmd ''
    for w in $tokens[2..-1]
        string match -q -- '-*' $w; and continue
        switch $cmd
            case ''
                set cmd $w
"""
    )
    for group in _groups(cmds):
        out.append(f'            case {_fish_quote(group)}\n                set cmd "$cmd $w"\n')
    out.append("            case '*'\n                break\n        end\n    end\n")
    out.append(
        "    set -l head ''\n"
        "    if string match -q -- '--*=*' $cur\n"
        "        set prev (string replace -r '=.*' '' -- $cur)\n"
        '        set head "$prev="\n'
        "    end\n"
    )
    out.append('    switch "$cmd|$prev"\n')
    for (kind, words), pairs in groups.items():
        list_name = lists.get(words, "")
        patterns = " ".join(_fish_quote(f"{path}|{name}") for path, name in pairs)
        out.append(f"        case {patterns}\n")
        if kind == WORDS:
            if list_name.endswith("_comma"):
                out.append(
                    "            set -l value (string replace -- $head '' $cur)\n"
                    "            string match -q -- '*,*' $value\n"
                    "            and set head \"$head\"(string replace -r -- ',[^,]*$' ',' $value)\n"
                )
            out.append(f"            string replace -r -- '^' $head $__gladia_{list_name}\n")
        elif kind == DEVICES:
            out.append(f"            {_fish_device_lookup()}\n")
        elif kind == FILES:
            out.append("            __fish_complete_path (string replace -- $head '' $cur)\n")
        out.append("            return\n")
    out.append("    end\n    if string match -q -- '-*' $cur\n        switch $cmd\n")
    for cmd in cmds:
        items = tuple((n, o.help) for o in cmd.options for n in o.names)
        out.append(f"            case {_fish_quote(cmd.path)}\n                printf '%s\\n' {_fish_items(items)}\n")
    out.append("        end\n        return\n    end\n    switch $cmd\n")
    for cmd in cmds:
        if cmd.subcommands:
            action = f"printf '%s\\n' {_fish_items(cmd.subcommands)}"
        elif cmd.arguments == WORDS:
            action = f"printf '%s\\n' $__gladia_{lists[cmd.argument_words]}"
        elif cmd.arguments == FILES:
            action = "__fish_complete_path $cur"
        else:
            continue
        out.append(f"        case {_fish_quote(cmd.path)}\n            {action}\n")
    out.append("    end\nend\n\ncomplete -c gladia -e\ncomplete -c gladia -f -a '(__gladia_complete)'\n")
    return "".join(out)


def _fish_device_lookup() -> str:
    """The one list that changes: ask gladia (piped, `gladia devices` prints tab-separated rows)."""
    return "$tokens[1] devices 2>/dev/null | string split -f 3 \\t"

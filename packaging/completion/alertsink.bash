# bash completion for alertsink(8)                       -*- shell-script -*-
#
# Installed as /usr/share/bash-completion/completions/alertsink (make install,
# the Debian package); to try it from the source tree:
#   source packaging/completion/alertsink.bash
#
# Completes the subcommands, their options and the wa and queue
# subcommands, files after -c/--template/--data/--file, directories after
# --partials, the formats of send --format, the states of queue --state,
# receiver names after --receiver, read from the configuration (-c FILE on
# the line, else $ALERTSINK_CONFIG, else /etc/alertsink/alertsink.yaml) with
# `alertsink -T --no-env`, which needs no secrets and sends nothing, and the
# notification ids of the spool after queue show/retry/drop, read with
# `alertsink queue --json`.

# -c FILE of the line, as arguments for another alertsink command.
_alertsink_config_args()
{
    local i
    for ((i = 1; i < COMP_CWORD; i++)); do
        if [[ ${COMP_WORDS[i]} == -c || ${COMP_WORDS[i]} == --config ]]; then
            printf '%s\n' -c "${COMP_WORDS[i + 1]}"
        fi
    done
}

# The receiver names of the configuration in use.
_alertsink_receivers()
{
    local IFS=$'\n'
    local -a cfg=($(_alertsink_config_args))
    "${COMP_WORDS[0]}" -T --no-env "${cfg[@]}" 2>/dev/null |
        sed -n '/^receivers:/,/^[^ ]/{s/^  - name: "\{0,1\}\([^"]*\)"\{0,1\}$/\1/p}'
}

# The ids of the notifications in the spool.
_alertsink_ids()
{
    local IFS=$'\n'
    local -a cfg=($(_alertsink_config_args))
    "${COMP_WORDS[0]}" queue --json "${cfg[@]}" 2>/dev/null |
        sed -n 's/^{"id":"\([^"]*\)".*/\1/p'
}

_alertsink()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=""
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    local commands="send preview render routes status queue requeue wa wa-cloud ready help"
    local wa_commands="login pair devices logout send"
    local queue_commands="list show retry drop"

    # The subcommand (and the wa subcommand): the first words that are not
    # options nor the value of -c.
    local cmd="" sub="" i w
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        case $w in
        -c | --config) ((i++)); continue ;;
        -*) continue ;;
        esac
        if [[ -z $cmd ]]; then
            cmd=$w
        elif [[ $cmd == wa || $cmd == wa-cloud || $cmd == queue || $cmd == help ]] &&
            [[ -z $sub ]]; then
            sub=$w
        fi
    done

    # Values of options.
    case $prev in
    -c | --config | --template | --data | --file)
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -f -- "$cur"))
        return
        ;;
    --partials)
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -d -- "$cur"))
        return
        ;;
    --format)
        COMPREPLY=($(compgen -W "auto json text nagios collectd" -- "$cur"))
        return
        ;;
    --state)
        COMPREPLY=($(compgen -W "all incoming maildrop active deferred dead" -- "$cur"))
        return
        ;;
    --receiver)
        # One name a line (a name may hold spaces), quoted for the shell.
        local IFS=$'\n' r
        COMPREPLY=()
        for r in $(compgen -W "$(_alertsink_receivers)" -- "$cur"); do
            COMPREPLY+=("$(printf '%q' "$r")")
        done
        return
        ;;
    --label | --labels | --title | --severity | --timeout | --socket | --phone | --reg-id | \
        --to | --at)
        return # a value of the user's own
        ;;
    esac

    local opts
    case $cmd in
    "")
        if [[ $cur == -* ]]; then
            opts="-c -t -T -V --no-env --help --version"
        else
            opts=$commands
        fi
        ;;
    send)
        opts="--receiver --label --title --severity --format --timeout --socket --dry-run -c --help"
        ;;
    preview) opts="--receiver --data --format -c --help" ;;
    render) opts="--template --partials --data --help" ;;
    routes) opts="--labels -c --help" ;;
    status) opts="--json --timeout -c --help" ;;
    wa-cloud) [[ $cur == -* || -n $sub ]] && opts="-c --help" || opts="check" ;;
    ready) opts="--timeout -c --help" ;;
    requeue)
        [[ $cur == -* ]] && opts="--all -c --help" || opts=$(_alertsink_ids)
        ;;
    queue)
        case $sub in
        "" | list)
            if [[ $cur == -* || -n $sub ]]; then
                opts="--state --json -c --help"
            else
                opts=$queue_commands
            fi
            ;;
        show) [[ $cur == -* ]] && opts="--json -c --help" || opts=$(_alertsink_ids) ;;
        retry) [[ $cur == -* ]] && opts="--dead --deferred -c --help" || opts=$(_alertsink_ids) ;;
        drop) [[ $cur == -* ]] && opts="--dead -c --help" || opts=$(_alertsink_ids) ;;
        esac
        ;;
    help)
        if [[ -z $sub ]]; then
            opts=$commands
        elif [[ $sub == wa ]]; then
            opts=$wa_commands
        elif [[ $sub == queue ]]; then
            opts="show retry drop"
        fi
        ;;
    wa)
        case $sub in
        "") [[ $cur == -* ]] && opts="-c --help" || opts=$wa_commands ;;
        pair) opts="--phone --timeout -c --help" ;;
        logout) opts="--reg-id --phone -c --help" ;;
        send) opts="--to --file --at -c --help" ;;
        *) opts="-c --help" ;;
        esac
        ;;
    esac
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}

complete -F _alertsink alertsink

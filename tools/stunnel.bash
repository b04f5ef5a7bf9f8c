# bash completion for stunnel, the stunnel-compatible TLS tunnel daemon
#
# stunnel takes a single argument: a configuration file, or one of the
# switches below (-fd is followed by a file descriptor number, which is
# not completed).

_stunnel()
{
    local cur=${COMP_WORDS[COMP_CWORD]} f
    COMPREPLY=()

    # Only the first argument is completed.
    [[ $COMP_CWORD -eq 1 ]] || return 0

    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W '-fd -help -version -sockets -options' -- "$cur")
        return 0
    fi

    # Configuration files: *.conf and *.cnf, plus directories to descend.
    if declare -F _filedir >/dev/null 2>&1; then
        _filedir '@(conf|cnf)'
        return 0
    fi
    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -d -- "$cur")
    while IFS= read -r f; do
        case $f in
            *.conf|*.cnf) [[ -f $f ]] && COMPREPLY+=( "$f" ) ;;
        esac
    done < <(compgen -f -- "$cur")
    return 0
} &&
complete -F _stunnel stunnel

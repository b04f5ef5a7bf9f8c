# bash completion for stunnel, the stunnel-compatible TLS tunnel daemon
#
#   stunnel [FILE]                 run the configuration FILE
#   stunnel -check [FILE]          check FILE and exit
#   stunnel [-check] -fd N         the configuration read from descriptor N
#   stunnel -help | -version | -sockets | -options
#
# The first word completes to a switch (after "-") or a configuration
# file (*.conf, *.cnf, and directories to descend); after -check, to -fd
# or a file.  File descriptor numbers are not completed.  Switches are
# matched in any case by the daemon, and completed as written here.

# _stunnel_files: COMPREPLY gets the configuration files and directories
# whose names start with $cur
_stunnel_files()
{
    local cur=$1 f
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
}

_stunnel()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    COMPREPLY=()

    case $COMP_CWORD in
    1)
        if [[ $cur == -* ]]; then
            mapfile -t COMPREPLY < <(compgen -W \
                '-check -fd -help -version -sockets -options' -- "$cur")
        else
            _stunnel_files "$cur"
        fi
        ;;
    2)
        # after -check: -fd or a file; after -fd: a number, not completed
        [[ ${prev,,} == -check ]] || return 0
        if [[ $cur == -* ]]; then
            mapfile -t COMPREPLY < <(compgen -W '-fd' -- "$cur")
        else
            _stunnel_files "$cur"
        fi
        ;;
    esac
    return 0
} &&
complete -F _stunnel stunnel

# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bash completion for synfin(8). Installed as share/bash-completion/completions/synfin, which
# bash-completion loads on the first `synfin <TAB>`. Plain compgen, no bash-completion
# helpers, so it also works when sourced by hand. The option lists are `synfin COMMAND
# --help`'s (tests/integration/test_install.sh checks that they still are).

_synfin() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local cmd= i
	local common='-n --netns -4 --ipv4 -6 --ipv6 --no-time-wait --ring-size --drain-ms -v --verbose -h --help'
	local watch="-j --json -p --port --pid --cookie -d --duration --close-wait-warn --port-warn --record $common"
	local serve="-l --listen --textfile --interval --by-port --max-series $common"
	local run='-a --assert --user --report --prom --html --baseline --settle -q --quiet --allow-no-samples --allow-lost --no-time-wait --ring-size --drain-ms -v --verbose -h --help'
	local check='-v --json --live --duration --netns'

	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--) return 0 ;; # run's CMD: leave it to the default completion
		watch | serve | run | check | version) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done

	# Options that take a file or a namespace path.
	case $prev in
	-n | --netns)
		COMPREPLY=($(compgen -f -- "${cur:-/var/run/netns/}"))
		return 0 ;;
	--record | --textfile | --report | --prom | --html | --baseline)
		COMPREPLY=($(compgen -f -- "$cur"))
		return 0 ;;
	-p | --port | --pid | --cookie | -d | --duration | --close-wait-warn | --port-warn | --interval | --max-series | \
	--ring-size | --drain-ms | -l | --listen | -a | --assert | --settle | --allow-lost | --user)
		return 0 ;; # a value of the user's
	esac

	case $cmd in
	'') COMPREPLY=($(compgen -W "watch serve run check version $watch" -- "$cur")) ;;
	watch) COMPREPLY=($(compgen -W "$watch" -- "$cur")) ;;
	serve) COMPREPLY=($(compgen -W "$serve" -- "$cur")) ;;
	run) COMPREPLY=($(compgen -W "$run --" -- "$cur")) ;;
	check) COMPREPLY=($(compgen -W "$check" -- "$cur")) ;;
	esac
	return 0
}
complete -o default -F _synfin synfin

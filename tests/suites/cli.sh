#!/usr/bin/env bash
# CLI behaviour common to every subcommand: help, version, unknown commands and options.
. "$(dirname "$0")/../lib.sh"
check_status "tightrope help exits 0" 0 "$TR" help
check_output "tightrope help lists help" "^  help " "$TR" help
check_output "--version prints the version" "^tightrope [0-9]+\.[0-9]+\.[0-9]+" "$TR" --version
check_status "no command is a usage error" 2 "$TR"
check_status "unknown command exits 2" 2 "$TR" hlep
check_output "unknown command suggests the closest" "did you mean 'help'" "$TR" hlep
check_status "unknown top-level option exits 2" 2 "$TR" --verison
check_output "unknown top-level option suggests" "did you mean '--version'" "$TR" --verison
check_status "help --help exits 0" 0 "$TR" help --help
check_status "help of an unknown command exits 2" 2 "$TR" help nosuch
check_status "unknown option of a command exits 2" 2 "$TR" help --bogus
for c in $("$TR" help | awk '/^commands:/{f=1;next} f&&/^  [a-z]/{print $1}'); do
  check_output "$c --help starts with usage" "^usage: tightrope $c" "$TR" "$c" --help
  check_status "$c --nosuchoption exits 2" 2 "$TR" "$c" --nosuchoption
done

#!/usr/bin/env bash
# stop-local-slurm.sh - stop what start-local-slurm.sh started, and nothing
# else: its jobs are cancelled, then slurmd, any job step daemon of our
# private spool dir that outlived it, slurmctld and munged (each only if the
# recorded pid and kernel start time still match). Run as root.
set -uo pipefail

STATE=${LOCAL_SLURM_STATE:-/run/caigen-local-slurm}
SPOOL=/var/spool/caigen-slurmd

say() { printf '[%s] local-slurm: %s\n' "$(date +%T)" "$*"; }
[ "$(id -u)" = 0 ] || { say "run me as root" >&2; exit 1; }

starttime() { local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }; set -- $s; echo "${20}"; }
is_proc() { [[ "$1" =~ ^[0-9]+$ ]] &&
	[ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ] &&
	{ [ -z "${3:-}" ] || [ "$(starttime "$1")" = "$3" ]; }; }
mine() { local pid st; [ -s "$STATE/$1" ] || return 1
	read -r pid st <"$STATE/$1"; is_proc "$pid" "$1" "$st"; }
stop() {	# NAME: SIGTERM, 20 s, SIGKILL
	local pid st
	if mine "$1"; then
		read -r pid st <"$STATE/$1"
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 80); do is_proc "$pid" "$1" "$st" || break
			sleep 0.25; done
		if is_proc "$pid" "$1" "$st"; then
			kill -KILL "$pid" 2>/dev/null
			sleep 0.5
		fi
		say "$1 stopped (pid $pid)"
	fi
	rm -f "$STATE/$1"
}

if mine slurmctld; then
	jobs=$(squeue -h -o %A 2>/dev/null | tr '\n' ' ')
	if [ -n "${jobs// /}" ]; then
		say "cancelling $jobs"
		scancel $jobs 2>/dev/null
		for _ in $(seq 120); do
			[ -z "$(squeue -h -o %A 2>/dev/null)" ] && break
			sleep 0.5
		done
	fi
fi
stop slurmd
# step daemons listening on a socket in our spool dir, and their children
socks=$(awk -v d="$SPOOL/" 'index($8, d) == 1 { print $7 }' \
	/proc/net/unix 2>/dev/null | sort -u)
if [ -n "$socks" ]; then
	for p in $(pgrep -x slurmstepd); do
		for fd in /proc/"$p"/fd/*; do
			l=$(readlink "$fd" 2>/dev/null) || continue
			case "$l" in socket:*) i=${l#socket:[}; i=${i%]}
				if grep -qx "$i" <<<"$socks"; then
					say "killing leftover slurmstepd $p"
					pkill -KILL -P "$p" 2>/dev/null
					kill -KILL "$p" 2>/dev/null
					break
				fi ;;
			esac
		done
	done
fi
stop slurmctld
stop munged
for f in /run/slurmctld.pid /run/slurmd.pid; do
	p=$(tr -dc 0-9 <"$f" 2>/dev/null)
	[ -e "$f" ] && { [ -z "$p" ] || [ ! -d "/proc/$p" ]; } && rm -f "$f"
done
rmdir "$STATE" 2>/dev/null
say "stopped"
exit 0

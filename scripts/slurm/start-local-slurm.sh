#!/usr/bin/env bash
# start-local-slurm.sh - a real one-node Slurm (munged, slurmctld, slurmd
# from Debian 12's packages) on this machine, for tests and for trying the
# array template. No systemd, no cgroups, no accounting database.
#
# Run as root. It installs what is missing (slurmctld slurmd slurm-client
# munge, --no-install-recommends), writes /etc/slurm/slurm.conf (a file
# without our first line is moved aside first), starts the three daemons
# directly and waits until a tiny probe job has run. The pid and kernel
# start time of every daemon it starts go to $LOCAL_SLURM_STATE, and
# stop-local-slurm.sh stops exactly those; daemons found running that it did
# not start are never touched (a foreign slurmctld makes it give up).
# Running it again while the cluster is up does nothing.
#
# Knobs (environment):
#   LOCAL_SLURM_CPUS         CPUs the node claims (default: what slurmd -C
#                            finds; more lets tasks share the cores)
#   LOCAL_SLURM_CRED_EXPIRE  seconds; also how long a requeued job waits
#                            before it may run again (default 10; Slurm: 120)
#   LOCAL_SLURM_KILL_WAIT    seconds from SIGTERM to SIGKILL (default 10)
#   LOCAL_SLURM_STATE        pid records (default /run/caigen-local-slurm)
#
# Facts this relies on (found the hard way on Debian 12, slurm-wlm 22.05):
# - munged must run as user munge and needs /run/munge (munge:munge, 0755);
#   bookworm makes keys with `mungekey`, not create-munge-key.
# - slurmctld's state dir must belong to SlurmUser (slurm); it cannot
#   remove its own pid file in /run, so a stale one is expected.
# - there is no /bin/mail: MailProg=/bin/true avoids an error.
# - no slurmdbd means no sacct; finished jobs are logged by jobcomp/filetxt.
# - the scheduler's first pass comes ~3 s after slurmctld starts: the probe
#   job makes "ready" mean ready.
# - a requeued job is held for cred_expire seconds (BeginTime), and only the
#   main scheduling pass (sched_interval) picks it up: both are short here.
# - forcing a requeued job's StartTime to now races the credential
#   revocation and can kill it instead: never do that.
# - time limits and --signal=...@T are checked on a 30 s timer, so tests
#   send signals with scancel instead.
set -euo pipefail

STATE=${LOCAL_SLURM_STATE:-/run/caigen-local-slurm}
CRED_EXPIRE=${LOCAL_SLURM_CRED_EXPIRE:-10}
KILL_WAIT=${LOCAL_SLURM_KILL_WAIT:-10}
CONF=/etc/slurm/slurm.conf
SPOOL=/var/spool/caigen-slurmd		# private: stop finds our stepds here
MARK="# written by caigen scripts/slurm/start-local-slurm.sh"
HOST=$(hostname -s)
NODE=$HOST

say() { printf '[%s] local-slurm: %s\n' "$(date +%T)" "$*"; }
die() { say "error: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run me as root"

# -- process records: "pid starttime", so a reused pid is never ours ------
starttime() { local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }; set -- $s; echo "${20}"; }
is_proc() { [[ "$1" =~ ^[0-9]+$ ]] &&
	[ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ] &&
	{ [ -z "${3:-}" ] || [ "$(starttime "$1")" = "$3" ]; }; }
mine() { local pid st; [ -s "$STATE/$1" ] || return 1
	read -r pid st <"$STATE/$1"; is_proc "$pid" "$1" "$st"; }
remember() { mkdir -p "$STATE"; echo "$2 $(starttime "$2")" >"$STATE/$1"; }
pidfile() { local p; p=$(tr -dc 0-9 <"$1" 2>/dev/null) || return 1
	[ -n "$p" ] && echo "$p"; }

# -- packages ----------------------------------------------------------------
need=()
for p in slurmctld slurmd slurm-client munge; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	say "installing ${need[*]}"
	# keep package scripts from starting daemons that would not be ours
	blocker=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		blocker=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\nexit 101\n' >"$blocker"
		chmod 755 "$blocker"
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=300 update -qq
	apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
		--no-install-recommends "${need[@]}" >/dev/null
	[ -z "$blocker" ] || rm -f "$blocker"
fi

# -- munge key and directories -----------------------------------------------
if [ ! -s /etc/munge/munge.key ]; then
	install -d -o munge -g munge -m 700 /etc/munge
	runuser -u munge -- /usr/sbin/mungekey --create \
		--keyfile=/etc/munge/munge.key
fi
chown munge:munge /etc/munge/munge.key
chmod 400 /etc/munge/munge.key
install -d -o munge -g munge -m 755 /run/munge
install -d -o munge -g munge -m 700 /var/log/munge
install -d -o munge -g munge -m 711 /var/lib/munge
install -d -o slurm -g slurm -m 755 /var/spool/slurmctld /var/log/slurm
install -d -m 755 "$SPOOL" "$STATE"

# -- slurm.conf --------------------------------------------------------------
hw=$(slurmd -C | head -n 1)
[[ "$hw" == NodeName=* ]] || die "slurmd -C said: $hw"
cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$hw")
mem=$(sed -n 's/.* RealMemory=\([0-9]*\).*/\1/p' <<<"$hw")
override=""
if [ -n "${LOCAL_SLURM_CPUS:-}" ] && [ "$LOCAL_SLURM_CPUS" != "$cpus" ]; then
	cpus=$LOCAL_SLURM_CPUS
	override="SlurmdParameters=config_overrides"
fi
conf="$MARK
ClusterName=local
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
AuthInfo=cred_expire=$CRED_EXPIRE
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=/var/log/slurm/jobcomp.log
MinJobAge=300
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_interval=2
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
KillWait=$KILL_WAIT
MailProg=/bin/true
$override
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=$SPOOL
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP"
changed=0
if [ ! -f "$CONF" ] || [ "$(cat "$CONF")" != "$conf" ]; then
	changed=1
	if [ -f "$CONF" ] && [ "$(head -n 1 "$CONF")" != "$MARK" ]; then
		mv "$CONF" "$CONF.saved-$(date +%s)"
		say "moved the existing $CONF aside"
	fi
	mkdir -p /etc/slurm
	printf '%s\n' "$conf" >"$CONF.tmp"
	chmod 644 "$CONF.tmp"
	mv "$CONF.tmp" "$CONF"
fi

# -- munged ------------------------------------------------------------------
munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }
if ! mine munged && ! munge_ok; then
	p=$(pidfile /run/munge/munged.pid || true)
	[ -z "$p" ] || ! is_proc "$p" munged ||
		die "a munged we did not start (pid $p) does not work"
	rm -f /run/munge/munged.pid
	runuser -u munge -- /usr/sbin/munged
	p=$(pidfile /run/munge/munged.pid || true)
	is_proc "$p" munged || die "munged did not start"
	remember munged "$p"
	for _ in $(seq 20); do munge_ok && break; sleep 0.25; done
	munge_ok || die "munge cannot encode and decode a credential"
	say "munged started (pid $p)"
fi

# -- slurmctld, slurmd -------------------------------------------------------
if [ "$changed" = 1 ]; then
	for d in slurmd slurmctld; do
		if mine "$d"; then
			read -r p _ <"$STATE/$d"
			kill "$p"
			for _ in $(seq 80); do is_proc "$p" "$d" || break
				sleep 0.25; done
			say "stopped $d: slurm.conf changed"
		fi
	done
fi
cold=0
start_daemon() {	# NAME ARGS...: start unless ours is running
	local d=$1 p
	shift
	mine "$d" && return 0
	p=$(pidfile "/run/$d.pid" || true)
	if [ -n "$p" ] && is_proc "$p" "$d"; then
		die "$d (pid $p) runs and was not started by this script"
	fi
	rm -f "/run/$d.pid"
	if [ "$d" = slurmctld ]; then	# fresh job ids, no old jobs
		find /var/spool/slurmctld -mindepth 1 -delete
	fi
	"/usr/sbin/$d" "$@" || die "$d failed: see /var/log/slurm/$d.log"
	for _ in $(seq 120); do
		p=$(pidfile "/run/$d.pid" || true)
		[ -n "$p" ] && is_proc "$p" "$d" && break
		sleep 0.25
	done
	is_proc "$p" "$d" || die "$d did not come up: see /var/log/slurm/$d.log"
	remember "$d" "$p"
	cold=1
	say "$d started (pid $p)"
}
start_daemon slurmctld
for _ in $(seq 120); do scontrol ping 2>/dev/null | grep -q 'is UP' && break
	sleep 0.5; done
scontrol ping 2>/dev/null | grep -q 'is UP' || die "slurmctld does not answer"
start_daemon slurmd -N "$NODE"

# -- ready? ------------------------------------------------------------------
state=""
for _ in $(seq 120); do
	state=$(sinfo -h -N -n "$NODE" -o '%T' 2>/dev/null | head -n 1)
	case "$state" in
	idle|mixed|allocated|completing) break ;;
	drain*|down*) scontrol update NodeName="$NODE" State=RESUME \
		2>/dev/null || true ;;
	esac
	sleep 0.5
done
case "$state" in idle|mixed|allocated|completing) ;;
*) die "node $NODE is '$state', not usable" ;; esac
if [ "$cold" = 1 ]; then
	j=$(sbatch --parsable -J local-slurm-probe -D / -o /dev/null \
		-e /dev/null --wrap true) || die "cannot submit the probe job"
	for _ in $(seq 240); do [ -z "$(squeue -h -j "$j" 2>/dev/null)" ] &&
		break; sleep 0.25; done
	st=$(scontrol show job "$j" 2>/dev/null |
		sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
	[ "$st" = COMPLETED ] || die "probe job $j ended as '${st:-?}'"
fi
say "ready: node $NODE ($cpus CPUs), cred_expire $CRED_EXPIRE s"
